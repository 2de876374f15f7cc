package io.tollgate.proxy.upstream;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BackendHandlerTest {

    private static final class Recorder implements BackendHandler.Listener {
        final List<HttpObject> read = new ArrayList<>();
        final List<Boolean> writability = new ArrayList<>();
        int closed;

        @Override
        public void upstreamRead(HttpObject msg) {
            read.add(msg);
        }

        @Override
        public void upstreamWritabilityChanged(boolean writable) {
            writability.add(writable);
        }

        @Override
        public void upstreamClosed(Throwable cause) {
            closed++;
        }
    }

    @Test
    void handsResponseMessagesToTheOwningExchange() {
        BackendHandler backend = new BackendHandler();
        EmbeddedChannel ch = new EmbeddedChannel(backend);
        Recorder r = new Recorder();
        backend.attach(r);
        ch.writeInbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        HttpContent body = new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[]{1, 2}));
        ch.writeInbound(body);
        assertThat(r.read).hasSize(2);
        assertThat(body.refCnt()).isEqualTo(1);        // ownership passed on, not released here
        body.release();
        ch.close();
        assertThat(r.closed).isEqualTo(1);
    }

    @Test
    void anIdlePooledConnectionThatReceivesBytesIsClosedAndTheBytesReleased() {
        BackendHandler backend = new BackendHandler();
        EmbeddedChannel ch = new EmbeddedChannel(backend);
        HttpContent stray = new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[]{1}));
        ch.writeInbound(stray);
        assertThat(stray.refCnt()).isZero();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aDetachedExchangeHearsNothingMore() {
        BackendHandler backend = new BackendHandler();
        EmbeddedChannel ch = new EmbeddedChannel(backend);
        Recorder r = new Recorder();
        backend.attach(r);
        backend.detach();
        ch.close();
        assertThat(r.closed).isZero();
        ReferenceCountUtil.release(ch.readInbound());
    }
}
