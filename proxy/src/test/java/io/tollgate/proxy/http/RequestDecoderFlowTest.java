package io.tollgate.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The decoder hands on one message per read() with auto-read off, as the client pipeline runs:
 * what it decoded and was not asked for waits, and the socket is read only when nothing waits.
 */
class RequestDecoderFlowTest {

    private static final String GET_A = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    private static final String GET_B = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";

    /** What the handler behind saw: uris, "last" for a body's end, "complete" for a read's end. */
    private final List<String> seen = new ArrayList<>();
    private int socketReads;
    private EmbeddedChannel ch;

    @BeforeEach
    void channel() {
        RequestDecoder decoder = new RequestDecoder(new HttpDecoderConfig());
        ch = new EmbeddedChannel();
        ch.config().setAutoRead(false);                   // as the proxy's connections: no read at activation
        ch.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                socketReads++;
                ctx.read();
            }
        }, decoder, new ResponseEncoder(decoder), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                seen.add(msg instanceof HttpRequest r ? r.uri()
                        : msg instanceof LastHttpContent l ? "last " + l.content().readableBytes()
                        : msg instanceof HttpContent c ? "content " + c.content().readableBytes() : msg.toString());
                ReferenceCountUtil.release(msg);
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                seen.add("complete");
            }
        });
    }

    private void send(String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
    }

    @Test
    void pipelinedRequestsGoOnOneMessageForEachRead() {
        send(GET_A + GET_B);
        assertThat(seen).as("nothing was asked for").isEmpty();

        ch.read();
        assertThat(seen).containsExactly("/a");
        ch.read();
        assertThat(seen).as("a completion only once nothing is held").containsExactly("/a", "last 0");
        ch.read();
        ch.read();
        assertThat(seen).containsExactly("/a", "last 0", "/b", "last 0", "complete");
        assertThat(socketReads).as("everything asked for was already decoded").isZero();

        ch.read();
        assertThat(socketReads).as("nothing held: the socket is read").isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void aReadThatFindsNothingHeldReadsTheSocketAndTheNextMessageGoesOnAtOnce() {
        ch.read();
        assertThat(socketReads).isEqualTo(1);
        send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(seen).as("the head answers the read; its body waits for the next").containsExactly("/p", "complete");
        ch.read();
        assertThat(seen).containsExactly("/p", "complete", "last 5", "complete");
        assertThat(socketReads).isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void aReadCycleThatDecodedNothingWholeReadsOn() {
        ch.read();
        send("GET /slow HTTP/1.1\r\nHo");                 // writeInbound ends its read cycle too
        assertThat(socketReads).as("the decoder asked for the rest of the head").isEqualTo(2);
        assertThat(seen).as("the socket's completion goes no further").isEmpty();

        send("st: x\r\n\r\n");
        assertThat(seen).containsExactly("/slow", "complete");
        assertThat(socketReads).as("a message was decoded: no read on").isEqualTo(2);
        ch.finishAndReleaseAll();
    }

    @Test
    void whatIsHeldWhenTheConnectionClosesIsReleased() {
        ByteBuf bytes = Unpooled.copiedBuffer(GET_A + "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
                StandardCharsets.US_ASCII);
        ch.writeInbound(bytes);
        ch.read();
        ch.read();
        ch.read();
        assertThat(seen).containsExactly("/a", "last 0", "/p");
        assertThat(bytes.refCnt()).as("the held body still holds the bytes").isPositive();

        ch.close();
        assertThat(bytes.refCnt()).isZero();
        assertThat(seen).containsExactly("/a", "last 0", "/p");
    }
}
