package io.tollgate.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ClientTimeoutHandlerTest {

    private static final Duration HEAD = Duration.ofSeconds(5);
    private static final Duration IDLE = Duration.ofSeconds(60);

    private final ClientTimeoutHandler timeouts = new ClientTimeoutHandler(HEAD, IDLE);
    private final List<IdleStateEvent> idleEvents = new ArrayList<>();
    private final EmbeddedChannel ch = new EmbeddedChannel(timeouts, new HttpResponseEncoder(),
            new ChannelInboundHandlerAdapter() {
                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    if (evt instanceof IdleStateEvent idle) {
                        idleEvents.add(idle);
                    }
                }
            });

    @Test
    void aHeadStartedButNotFinishedInTimeGets408AndTheConnectionCloses() {
        read("POST /v1/chat");
        advance(6);
        String out = written();
        assertThat(out).startsWith("HTTP/1.1 408").contains("\"code\":\"request_timeout\"")
                .containsIgnoringCase("x-request-id: req_");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aHeadThatArrivedDisarmsTheTimer() {
        read("GET / HTTP/1.1\r\n\r\n");
        timeouts.headReceived();
        advance(6);
        assertThat(written()).isEmpty();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void anIdleKeepAliveConnectionIsNotTimedOutAsASlowHead() {
        timeouts.awaitNextHead();
        advance(59);
        assertThat(written()).isEmpty();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void aConnectionWithNothingReadOrWrittenForAPeriodIsIdleAndStaysSoEachPeriod() {
        advance(59);
        assertThat(idleEvents).isEmpty();
        advance(2);
        assertThat(idleEvents).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
        advance(60);
        assertThat(idleEvents).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT,
                IdleStateEvent.ALL_IDLE_STATE_EVENT);
    }

    @Test
    void aReadOrAWriteWithinAPeriodPutsIdlenessOffByAtLeastAPeriod() {
        advance(30);
        read("GET / HTTP/1.1\r\n\r\n");
        timeouts.headReceived();
        advance(60);                                      // the check at 60 s saw the read
        assertThat(idleEvents).isEmpty();
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        written();
        advance(60);                                      // the check at 120 s saw the write
        assertThat(idleEvents).isEmpty();
        advance(60);                                      // 180 s: a whole period of nothing
        assertThat(idleEvents).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
        read("GET / HTTP/1.1\r\n\r\n");
        advance(60);                                      // 240 s: busy again
        advance(60);                                      // 300 s: idle, a first idleness again
        assertThat(idleEvents).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT,
                IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
    }

    @Test
    void aClosedConnectionChecksNoMore() {
        ch.close();
        advance(600);
        assertThat(idleEvents).isEmpty();
        assertThat(ch.runScheduledPendingTasks()).isEqualTo(-1L);   // nothing left scheduled
    }

    private void read(String bytes) {
        ch.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.US_ASCII));
        ((ByteBuf) ch.readInbound()).release();
    }

    private void advance(long seconds) {
        ch.advanceTimeBy(seconds, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
    }

    private String written() {
        StringBuilder out = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            out.append(((ByteBuf) o).toString(StandardCharsets.US_ASCII));
            ((ByteBuf) o).release();
        }
        return out.toString();
    }
}
