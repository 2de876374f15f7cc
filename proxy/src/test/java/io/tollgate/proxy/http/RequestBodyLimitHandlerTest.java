package io.tollgate.proxy.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RequestBodyLimitHandlerTest {

    private final List<Object> events = new ArrayList<>();

    private EmbeddedChannel channel(long max) {
        return new EmbeddedChannel(new RequestBodyLimitHandler(max), new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add(evt);
            }
        });
    }

    private static HttpRequest head(Long contentLength) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions");
        if (contentLength != null) {
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, contentLength);
        } else {
            r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        }
        return r;
    }

    private static HttpContent chunk(int n) {
        return new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[n]));
    }

    @Test
    void aDeclaredLengthOverTheLimitIsReportedAtTheHead() {
        EmbeddedChannel ch = channel(100);
        ch.writeInbound(head(101L));
        assertThat((Object) ch.readInbound()).isInstanceOf(HttpRequest.class);
        assertThat(events).containsExactly(new BodyLimitExceeded(100));
        HttpContent c = chunk(10);
        ch.writeInbound(c);
        assertThat((Object) ch.readInbound()).isNull();
        assertThat(c.refCnt()).isZero();
        ch.finishAndReleaseAll();
    }

    @Test
    void aChunkedBodyIsCutTheMomentItPassesTheLimitAndTheRestIsDiscarded() {
        EmbeddedChannel ch = channel(100);
        ch.writeInbound(head(null));
        ch.readInbound();
        ch.writeInbound(chunk(60));
        HttpContent passed = ch.readInbound();
        assertThat(passed.content().readableBytes()).isEqualTo(60);
        passed.release();
        HttpContent over = chunk(41);
        ch.writeInbound(over);
        assertThat((Object) ch.readInbound()).isNull();
        assertThat(over.refCnt()).isZero();
        assertThat(events).containsExactly(new BodyLimitExceeded(100));
        DefaultLastHttpContent last = new DefaultLastHttpContent(Unpooled.wrappedBuffer(new byte[5]));
        ch.writeInbound(last);
        assertThat((Object) ch.readInbound()).isNull();
        assertThat(last.refCnt()).isZero();
        assertThat(events).hasSize(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void exactlyTheLimitPassesAndTheNextRequestStartsAfresh() {
        EmbeddedChannel ch = channel(100);
        ch.writeInbound(head(null));
        ch.readInbound();
        ch.writeInbound(chunk(100));
        ((HttpContent) ch.readInbound()).release();
        ch.writeInbound(new DefaultLastHttpContent());
        ((HttpContent) ch.readInbound()).release();
        ch.writeInbound(head(null));
        ch.readInbound();
        ch.writeInbound(chunk(100));
        HttpContent again = ch.readInbound();
        assertThat(again).isNotNull();
        again.release();
        assertThat(events).isEmpty();
        ch.finishAndReleaseAll();
    }

    @Test
    void countingNeverOverflows() {
        EmbeddedChannel ch = channel(Long.MAX_VALUE - 1);
        ch.writeInbound(head(null));
        ch.readInbound();
        ch.writeInbound(chunk(1000));
        ((HttpContent) ch.readInbound()).release();
        assertThat(events).isEmpty();
        ch.finishAndReleaseAll();
    }
}
