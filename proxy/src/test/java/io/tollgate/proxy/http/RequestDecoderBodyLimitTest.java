package io.tollgate.proxy.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The decoder's body limit: body bytes counted as they are handed on, Content-Length or chunked. */
class RequestDecoderBodyLimitTest {

    private final List<Object> events = new ArrayList<>();
    private final List<Object> passed = new ArrayList<>();

    private EmbeddedChannel channel(long max) {
        RequestDecoder decoder = new RequestDecoder(new HttpDecoderConfig(), max);
        return new EmbeddedChannel(decoder, new ResponseEncoder(decoder), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                passed.add(msg instanceof HttpContent c ? c.content().readableBytes() + (msg instanceof LastHttpContent ? " last" : "")
                        : msg instanceof HttpRequest r ? r.uri() : msg);
                ReferenceCountUtil.release(msg);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add(evt);
                passed.add(evt);
            }
        });
    }

    private static void send(EmbeddedChannel ch, String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
    }

    private static String chunk(int n) {
        return Integer.toHexString(n) + "\r\n" + "x".repeat(n) + "\r\n";
    }

    private static String chunkedHead(String uri) {
        return "POST " + uri + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    }

    @Test
    void aDeclaredLengthOverTheLimitIsReportedAtTheHeadAndNoBodyByteGoesOn() {
        EmbeddedChannel ch = channel(100);
        send(ch, "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
        assertThat(passed).containsExactly("/big", new BodyLimitExceeded(100));
        send(ch, "y".repeat(101));
        assertThat(passed).hasSize(2);
        ch.finishAndReleaseAll();
    }

    @Test
    void aChunkedBodyIsCutTheMomentItPassesTheLimitAndTheRestIsDiscarded() {
        EmbeddedChannel ch = channel(100);
        send(ch, chunkedHead("/c") + chunk(60));
        assertThat(passed).containsExactly("/c", "60");
        send(ch, chunk(41));
        assertThat(passed).containsExactly("/c", "60", new BodyLimitExceeded(100));
        send(ch, chunk(5) + "0\r\n\r\n");
        assertThat(events).hasSize(1);
        assertThat(passed).hasSize(3);
        ch.finishAndReleaseAll();
    }

    @Test
    void exactlyTheLimitPassesAndTheNextRequestStartsAfresh() {
        EmbeddedChannel ch = channel(100);
        send(ch, chunkedHead("/a") + chunk(100) + "0\r\n\r\n" + chunkedHead("/b") + chunk(100));
        assertThat(passed).containsExactly("/a", "100", "0 last", "/b", "100");
        assertThat(events).isEmpty();
        ch.finishAndReleaseAll();
    }

    @Test
    void countingNeverOverflows() {
        EmbeddedChannel ch = channel(Long.MAX_VALUE - 1);
        send(ch, chunkedHead("/n") + chunk(1000));
        assertThat(passed).containsExactly("/n", "1000");
        assertThat(events).isEmpty();
        ch.finishAndReleaseAll();
    }
}
