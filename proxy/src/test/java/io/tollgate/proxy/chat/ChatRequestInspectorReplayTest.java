package io.tollgate.proxy.chat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Sending the body again to another route: the same bytes, but that route's model name. */
class ChatRequestInspectorReplayTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"héllo \\\"world\\\" {}\"}]";

    private final List<ByteBuf> fed = new ArrayList<>();

    /** Pooled, like the decoder's: every one must be released once the inspector is closed. */
    private void feed(ChatRequestInspector in, byte[] bytes, int from, int to) throws Exception {
        ByteBuf chunk = ALLOC.directBuffer(to - from).writeBytes(bytes, from, to - from);
        fed.add(chunk);
        in.feed(chunk);
        chunk.release();
    }

    private static void drainInto(ByteArrayOutputStream out, ByteBuf b) {
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        out.writeBytes(bytes);
    }

    /** What one upstream is sent when the whole body goes to it, for reference. */
    private static String whole(String body, String upstreamModel) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC)) {
            ByteBuf b = ALLOC.buffer().writeBytes(body.getBytes(StandardCharsets.UTF_8));
            in.feed(b);
            b.release();
            in.finish();
            in.rewriteModel(upstreamModel);
            drainInto(out, in.drainReady(ALLOC));
            drainInto(out, in.drainTail(ALLOC));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Routes to {@code first}, drains after every piece, and once {@code failAt} bytes are in
     * fails over to {@code second}: the replay, then the rest as it is drained.
     */
    private String[] failOver(String body, int piece, int failAt, String first, String second) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream one = new ByteArrayOutputStream();
        ByteArrayOutputStream two = new ByteArrayOutputStream();
        ByteArrayOutputStream to = one;
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC)) {
            boolean routed = false;
            for (int i = 0; i < bytes.length; i += piece) {
                feed(in, bytes, i, Math.min(bytes.length, i + piece));
                if (!routed && in.model() != null) {
                    in.keepForReplay(ALLOC, 64 * 1024);
                    in.rewriteModel(first);
                    routed = true;
                }
                if (routed) {
                    drainInto(to, in.drainReady(ALLOC));
                }
                if (to == one && i + piece >= failAt && routed) {
                    assertThat(in.replayable()).isTrue();
                    in.rewriteModel(second);
                    to = two;
                    drainInto(two, in.replay(ALLOC));
                }
            }
            in.finish();
            if (to == one) {
                drainInto(one, in.drainReady(ALLOC));
                drainInto(one, in.drainTail(ALLOC));
                in.rewriteModel(second);
                to = two;
                drainInto(two, in.replay(ALLOC));
            }
            drainInto(two, in.drainReady(ALLOC));
            if (!in.tailDrained()) {
                drainInto(two, in.drainTail(ALLOC));
            }
        }
        assertThat(fed).allSatisfy(b -> assertThat(b.refCnt()).isZero());
        return new String[] {one.toString(StandardCharsets.UTF_8), two.toString(StandardCharsets.UTF_8)};
    }

    @ParameterizedTest
    @CsvSource({
            "1, 5", "1, 40", "3, 30", "7, 70", "64, 1", "100000, 1",
            "1, 100000", "5, 100000",     // failed after the tail went: the replay is the whole body
    })
    void theReplayIsTheBodyRewrittenForTheNextRoute(int piece, int failAt) throws Exception {
        String body = "{\"model\":\"client-name\",\"temperature\":0.5," + MESSAGES + "}";
        String[] sent = failOver(body, piece, failAt, "first/upstream-model", "m2");
        assertThat(whole(body, "first/upstream-model")).startsWith(sent[0]);
        assertThat(sent[1]).isEqualTo(whole(body, "m2"));
    }

    @ParameterizedTest
    @CsvSource({"1, 10", "4, 60", "9, 100000"})
    void editsBeforeTheModelAndTheAddedIncludeUsageAreReplayedToo(int piece, int failAt) throws Exception {
        String withOptions = "{\"stream\":true,\"stream_options\":{\"include_usage\":false}," + MESSAGES + ",\"model\":\"c\"}";
        String[] sent = failOver(withOptions, piece, failAt, "a-much-longer-first-name", "b");
        assertThat(sent[1]).isEqualTo(whole(withOptions, "b")).contains("\"include_usage\":true");

        String streamed = "{\"model\":\"c\",\"stream\":true," + MESSAGES + "}";
        sent = failOver(streamed, piece, failAt, "b", "a-much-longer-second-name");
        assertThat(sent[1]).isEqualTo(whole(streamed, "a-much-longer-second-name")).contains("\"include_usage\":true");
    }

    @Test
    void pastTheLimitTheBodyIsNoLongerReplayableButUntilSomethingLeftItIs() throws Exception {
        byte[] body = ("{\"model\":\"m\"," + MESSAGES + "}").getBytes(StandardCharsets.UTF_8);
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC)) {
            feed(in, body, 0, body.length);
            in.finish();
            in.keepForReplay(ALLOC, 10);
            in.rewriteModel("u");
            assertThat(in.replayable()).isTrue();                     // nothing has left yet
            assertThat(in.replay(ALLOC).readableBytes()).isZero();
            in.drainReady(ALLOC).release();
            assertThat(in.replayable()).isFalse();
            assertThatThrownBy(() -> in.replay(ALLOC)).isInstanceOf(IllegalStateException.class);
            in.drainTail(ALLOC).release();
            assertThatThrownBy(() -> in.drainTail(ALLOC)).isInstanceOf(IllegalStateException.class);
        }
        assertThat(fed).allSatisfy(b -> assertThat(b.refCnt()).isZero());
    }

    @Test
    void droppingTheReplayLetsItsBuffersGo() throws Exception {
        byte[] body = ("{\"model\":\"m\"," + MESSAGES + "}").getBytes(StandardCharsets.UTF_8);
        ChatRequestInspector in = new ChatRequestInspector(ALLOC);
        feed(in, body, 0, body.length);
        in.keepForReplay(ALLOC, 1024);
        in.rewriteModel("u");
        in.drainReady(ALLOC).release();
        assertThat(fed.get(0).refCnt()).isPositive();                // the replay holds the bytes
        in.dropReplay();
        assertThat(in.replayable()).isFalse();
        in.close();
        assertThat(fed.get(0).refCnt()).isZero();
    }
}
