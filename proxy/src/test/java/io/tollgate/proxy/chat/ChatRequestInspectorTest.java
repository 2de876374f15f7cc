package io.tollgate.proxy.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tollgate.proxy.http.ApiError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChatRequestInspectorTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    /** Feeds {@code body} cut into pieces of {@code piece} bytes; returns what went upstream. */
    private static String run(String body, int piece, String upstreamModel) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream upstream = new java.io.ByteArrayOutputStream();
        boolean routed = false;
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC)) {
            for (int i = 0; i < bytes.length; i += piece) {
                ByteBuf chunk = Unpooled.wrappedBuffer(bytes, i, Math.min(piece, bytes.length - i));
                in.feed(chunk);
                chunk.release();
                if (!routed && in.model() != null) {
                    in.rewriteModel(upstreamModel);
                    routed = true;
                }
                if (routed) {
                    drainInto(upstream, (in.drainReady(ALLOC)));
                }
            }
            in.finish();
            if (!routed) {
                in.rewriteModel(upstreamModel);
            }
            drainInto(upstream, (in.drainReady(ALLOC)));
            drainInto(upstream, (in.drainTail(ALLOC)));
        }
        return upstream.toString(StandardCharsets.UTF_8);
    }

    /** Bytes, not text: a drained piece may end inside a multi-byte character. */
    private static void drainInto(java.io.ByteArrayOutputStream out, ByteBuf b) {
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        out.writeBytes(bytes);
    }

    private static String drain(ByteBuf b) {
        String s = b.toString(StandardCharsets.UTF_8);
        b.release();
        return s;
    }

    private static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"héllo \\\"world\\\" {}\"}]";

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 64, 100_000})
    void rewritesTheModelWhereverTheBodyIsCut(int piece) throws Exception {
        String body = "{" + MESSAGES + ", \"model\" :  \"gpt-x\",\"temperature\":0.5}";
        JsonNode out = JSON.readTree(run(body, piece, "upstream/model-1"));
        assertThat(out.get("model").asText()).isEqualTo("upstream/model-1");
        assertThat(out.get("messages").get(0).get("content").asText()).isEqualTo("héllo \"world\" {}");
        assertThat(out.get("temperature").asDouble()).isEqualTo(0.5);
        assertThat(out.has("stream_options")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 100_000})
    void aStreamGetsIncludeUsageAddedWhenTheClientDidNotAsk(int piece) throws Exception {
        String body = "{\"model\":\"m\",\"stream\":true," + MESSAGES + "}";
        JsonNode out = JSON.readTree(run(body, piece, "u"));
        assertThat(out.get("stream_options").get("include_usage").asBoolean()).isTrue();
        assertThat(out.get("stream").asBoolean()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 100_000})
    void theClientsStreamOptionsAreKeptWithIncludeUsageForcedOn(int piece) throws Exception {
        String body = "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":false,\"x\":{\"y\":[1]}}," + MESSAGES + "}";
        String upstream = run(body, piece, "u");
        JsonNode out = JSON.readTree(upstream);
        assertThat(out.get("stream_options").get("include_usage").asBoolean()).isTrue();
        assertThat(out.get("stream_options").get("x").get("y").get(0).asInt()).isEqualTo(1);
        assertThat(upstream.indexOf("stream_options")).isEqualTo(upstream.lastIndexOf("stream_options"));
    }

    /**
     * A body read from a socket is in direct buffers; what goes upstream must stay direct with our
     * own bytes in it (the new model, stream_options, the closing brace), or the epoll transport
     * copies the whole composite into a new direct buffer before writing it.
     */
    @Test
    void whatLeavesOfADirectBodyIsDirectWithTheEditsInIt() throws Exception {
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC)) {
            in.keepForReplay(ALLOC, 1 << 20);
            byte[] body = ("{\"model\":\"m\",\"stream\":true," + MESSAGES + "}").getBytes(StandardCharsets.UTF_8);
            ByteBuf b = ALLOC.directBuffer(body.length).writeBytes(body);
            in.feed(b);
            b.release();
            in.finish();
            in.rewriteModel("upstream/model-1");
            List<ByteBuf> sent = List.of(in.drainReady(ALLOC), in.drainTail(ALLOC), in.replay(ALLOC));
            for (ByteBuf out : sent) {
                assertThat(out.isDirect()).as(out.toString(StandardCharsets.UTF_8)).isTrue();
            }
            String upstream = sent.get(0).toString(StandardCharsets.UTF_8) + sent.get(1).toString(StandardCharsets.UTF_8);
            assertThat(JSON.readTree(upstream).get("model").asText()).isEqualTo("upstream/model-1");
            assertThat(JSON.readTree(upstream).get("stream_options").get("include_usage").asBoolean()).isTrue();
            sent.forEach(ByteBuf::release);
        }
    }

    @Test
    void readsTheMeteringFields() throws Exception {
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC)) {
            ByteBuf b = Unpooled.copiedBuffer("{\"max_tokens\":300,\"model\":\"m\",\"stream\":true,"
                    + "\"stream_options\":{\"include_usage\":true}," + MESSAGES + ",\"max_completion_tokens\":200}", StandardCharsets.UTF_8);
            long size = b.readableBytes();
            in.feed(b);
            b.release();
            in.finish();
            assertThat(in.model()).isEqualTo("m");
            assertThat(in.stream()).isTrue();
            assertThat(in.clientIncludeUsage()).isTrue();
            assertThat(in.maxTokens()).isEqualTo(200);
            assertThat(in.bodyBytes()).isEqualTo(size);
        }
    }

    @Test
    void nothingLeavesBeforeTheModelIsRoutedAndTheClosingBraceNeverBeforeTheTail() throws Exception {
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC)) {
            ByteBuf b = Unpooled.copiedBuffer("{" + MESSAGES + ",\"model\":\"m\"", StandardCharsets.UTF_8);
            in.feed(b);
            b.release();
            // The model is parsed but not yet routed: only the bytes before it may go.
            String before = drain(in.drainReady(ALLOC));
            assertThat(before).doesNotContain("\"m\"");
            in.rewriteModel("up");
            ByteBuf end = Unpooled.copiedBuffer("}", StandardCharsets.UTF_8);
            in.feed(end);
            end.release();
            String ready = drain(in.drainReady(ALLOC));
            assertThat(before + ready).endsWith("\"up\"");
            in.finish();
            assertThat(drain(in.drainTail(ALLOC))).isEqualTo("}");
        }
    }

    @Test
    void aLargeBodyWithTheModelFirstFlowsAsItArrives() throws Exception {
        ContentLimits roomy = new ContentLimits(ContentLimits.DEFAULT_MAX_MESSAGES, Integer.MAX_VALUE, ContentRules.NONE);
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC, roomy)) {
            ByteBuf head = Unpooled.copiedBuffer("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"", StandardCharsets.UTF_8);
            in.feed(head);
            head.release();
            in.rewriteModel("u");
            drain(in.drainReady(ALLOC));
            List<Integer> drained = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                ByteBuf piece = Unpooled.copiedBuffer("a".repeat(8192), StandardCharsets.UTF_8);
                in.feed(piece);
                piece.release();
                ByteBuf out = in.drainReady(ALLOC);
                drained.add(out.readableBytes());
                out.release();
            }
            // Inside a long string nothing waits for the string to end: each piece goes at once.
            assertThat(drained).containsOnly(8192);
            ByteBuf close = Unpooled.copiedBuffer("\"}]}", StandardCharsets.UTF_8);
            in.feed(close);
            close.release();
            ByteBuf rest = in.drainReady(ALLOC);
            // Only the root's closing brace is held back.
            assertThat(rest.toString(StandardCharsets.UTF_8)).isEqualTo("\"}]");
            rest.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "[1,2]", "{\"model\":", "{\"model\":\"m\",\"messages\":[]} {}", "nope"})
    void malformedBodiesAreInvalidRequests(String body) {
        assertThatThrownBy(() -> run(body, 3, "u"))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.error()).isEqualTo(ApiError.INVALID_REQUEST));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"model\":5,\"messages\":[]}", "{\"model\":\"m\",\"stream\":\"yes\",\"messages\":[]}",
            "{\"model\":\"m\",\"max_tokens\":-1,\"messages\":[]}", "{\"model\":\"m\",\"messages\":\"hi\"}",
            "{\"model\":\"m\",\"stream_options\":[],\"messages\":[]}"})
    void wrongTypesAreInvalidRequests(String body) {
        assertThatThrownBy(() -> run(body, 5, "u"))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.error()).isEqualTo(ApiError.INVALID_REQUEST));
    }

    @Test
    void missingFieldsHaveTheirOwnCodes() {
        assertThatThrownBy(() -> run("{\"messages\":[]}", 5, "u"))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.error()).isEqualTo(ApiError.MODEL_REQUIRED));
        assertThatThrownBy(() -> run("{\"model\":\"m\"}", 5, "u"))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.error()).isEqualTo(ApiError.MESSAGES_REQUIRED));
    }
}
