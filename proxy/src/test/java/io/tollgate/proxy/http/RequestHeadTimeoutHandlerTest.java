package io.tollgate.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class RequestHeadTimeoutHandlerTest {

    @Test
    void aHeadStartedButNotFinishedInTimeGets408AndTheConnectionCloses() {
        RequestHeadTimeoutHandler timeout = new RequestHeadTimeoutHandler(Duration.ofSeconds(5));
        EmbeddedChannel ch = new EmbeddedChannel(timeout, new HttpResponseEncoder());
        ch.writeInbound(Unpooled.copiedBuffer("POST /v1/chat", StandardCharsets.US_ASCII));
        ((ByteBuf) ch.readInbound()).release();
        ch.advanceTimeBy(6, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        StringBuilder out = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            out.append(((ByteBuf) o).toString(StandardCharsets.US_ASCII));
            ((ByteBuf) o).release();
        }
        assertThat(out.toString()).startsWith("HTTP/1.1 408").contains("\"code\":\"request_timeout\"")
                .containsIgnoringCase("x-request-id: req_");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aHeadThatArrivedDisarmsTheTimer() {
        RequestHeadTimeoutHandler timeout = new RequestHeadTimeoutHandler(Duration.ofSeconds(5));
        EmbeddedChannel ch = new EmbeddedChannel(timeout, new HttpResponseEncoder());
        ch.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", StandardCharsets.US_ASCII));
        ((ByteBuf) ch.readInbound()).release();
        timeout.headReceived();
        ch.advanceTimeBy(6, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat((Object) ch.readOutbound()).isNull();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void anIdleKeepAliveConnectionIsNotTimedOutAsASlowHead() {
        RequestHeadTimeoutHandler timeout = new RequestHeadTimeoutHandler(Duration.ofSeconds(5));
        EmbeddedChannel ch = new EmbeddedChannel(timeout, new HttpResponseEncoder());
        timeout.awaitNextHead();
        ch.advanceTimeBy(60, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat((Object) ch.readOutbound()).isNull();
        assertThat(ch.isOpen()).isTrue();
    }
}
