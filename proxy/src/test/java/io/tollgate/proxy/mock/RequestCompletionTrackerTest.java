package io.tollgate.proxy.mock;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RequestCompletionTrackerTest {

    private final MockRecords records = new MockRecords();
    private final EmbeddedChannel channel = new EmbeddedChannel(new RequestCompletionTracker(records));

    @Test
    void countsHeadsAndPassesEverythingOn() {
        channel.writeInbound(head(), content(), LastHttpContent.EMPTY_LAST_CONTENT, head(), LastHttpContent.EMPTY_LAST_CONTENT);

        assertThat(records.heads()).isEqualTo(2);
        assertThat(channel.inboundMessages()).hasSize(5);
        drain();
        channel.finish();
        assertThat(records.incomplete()).isZero();
    }

    @Test
    void countsAConnectionThatClosesMidBody() {
        HttpContent content = content();
        channel.writeInbound(head(), content);
        drain();

        channel.close();

        assertThat(records.heads()).isEqualTo(1);
        assertThat(records.incomplete()).isEqualTo(1);
        assertThat(content.refCnt()).isZero();
    }

    @Test
    void aFailedLastChunkCompletesNothing() {
        LastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        failed.setDecoderResult(DecoderResult.failure(new IllegalStateException("premature close")));
        channel.writeInbound(head(), failed);
        drain();

        channel.close();

        assertThat(records.incomplete()).isEqualTo(1);
    }

    @Test
    void countsAClosedConnectionOnce() {
        channel.writeInbound(head());
        drain();

        channel.close();
        channel.close();

        assertThat(records.incomplete()).isEqualTo(1);
    }

    private static DefaultHttpRequest head() {
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/chat/completions");
    }

    private static HttpContent content() {
        return new DefaultHttpContent(Unpooled.copiedBuffer(new byte[10]));
    }

    private void drain() {
        for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
            ReferenceCountUtil.release(msg);
        }
    }
}
