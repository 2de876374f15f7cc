package io.tollgate.proxy.chat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tollgate.proxy.http.ApiError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The message limits and content rules that {@link ChatRequestInspector} enforces as the body streams. */
class ChatRequestInspectorLimitsTest {

    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;
    private static final int ROOMY = 1_000_000;

    /**
     * Feeds {@code body} cut at {@code cuts} (byte offsets), routes it as soon as the model is
     * known and drains it as the frontend does; returns the inspector's counts, or throws what
     * the inspector refused the body with.
     */
    private static Counts run(ContentLimits limits, String body, int... cuts) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream upstream = new java.io.ByteArrayOutputStream();
        boolean routed = false;
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC, limits)) {
            int from = 0;
            for (int i = 0; i <= cuts.length; i++) {
                int to = i < cuts.length ? cuts[i] : bytes.length;
                ByteBuf chunk = Unpooled.wrappedBuffer(bytes, from, to - from);
                try {
                    in.feed(chunk);
                } finally {
                    chunk.release();
                }
                from = to;
                if (!routed && in.model() != null) {
                    in.rewriteModel(in.model());
                    routed = true;
                }
                if (routed) {
                    drainInto(upstream, (in.drainReady(ALLOC)));
                }
            }
            in.finish();
            drainInto(upstream, (in.drainReady(ALLOC)));
            drainInto(upstream, (in.drainTail(ALLOC)));
            assertThat(upstream.toString(StandardCharsets.UTF_8)).isEqualTo(body);    // limits never change what goes up
            return new Counts(in.messageCount(), in.messageChars());
        }
    }

    private record Counts(int messages, long chars) {
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

    /** Every way of cutting {@code body} in two, and in single bytes. */
    private static List<int[]> everyCut(String body) {
        int n = body.getBytes(StandardCharsets.UTF_8).length;
        List<int[]> cuts = IntStream.range(0, n + 1).mapToObj(i -> new int[] {i}).collect(Collectors.toList());
        cuts.add(IntStream.range(1, n).toArray());
        return cuts;
    }

    private static void assertPassesWhereverCut(ContentLimits limits, String body, int messages, long chars) throws Exception {
        for (int[] cut : everyCut(body)) {
            assertThat(run(limits, body, cut)).as("cut at %s", java.util.Arrays.toString(cut))
                    .isEqualTo(new Counts(messages, chars));
        }
    }

    private static void assertRefusedWhereverCut(ContentLimits limits, String body, ApiError error) {
        for (int[] cut : everyCut(body)) {
            assertThatThrownBy(() -> run(limits, body, cut)).as("cut at %s", java.util.Arrays.toString(cut))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.error()).isEqualTo(error));
        }
    }

    private static ContentLimits limits(int messages, int chars) {
        return new ContentLimits(messages, chars, ContentRules.NONE);
    }

    private static ContentLimits rules(List<String> keywords, List<String> expressions) {
        return new ContentLimits(ROOMY, ROOMY, ContentRules.of(keywords, expressions));
    }

    private static String body(String... messages) {
        return "{\"model\":\"client\",\"messages\":[" + String.join(",", messages) + "]}";
    }

    private static String user(String content) {
        return "{\"role\":\"user\",\"content\":\"" + content + "\"}";
    }

    // ---------------------------------------------------------------- message count

    @Test
    void exactlyTheMaximumNumberOfMessagesPasses() throws Exception {
        assertPassesWhereverCut(limits(3, ROOMY), body(user("a"), user("b"), user("c")), 3, 3);
    }

    @Test
    void oneMessageMoreIsTooManyMessages() {
        assertRefusedWhereverCut(limits(3, ROOMY), body(user("a"), user("b"), user("c"), user("d")),
                ApiError.TOO_MANY_MESSAGES);
    }

    @Test
    void tooManyMessagesIsRaisedTheMomentTheExtraElementStarts() throws Exception {
        String prefix = "{\"model\":\"client\",\"messages\":[" + user("a") + "," + user("b") + ",";
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC, limits(2, ROOMY))) {
            ByteBuf first = Unpooled.copiedBuffer(prefix, StandardCharsets.UTF_8);
            in.feed(first);
            first.release();
            assertThat(in.messageCount()).isEqualTo(2);
            ByteBuf brace = Unpooled.copiedBuffer("{", StandardCharsets.UTF_8);
            try {
                assertThatThrownBy(() -> in.feed(brace))
                        .isInstanceOfSatisfying(InvalidRequestException.class,
                                e -> assertThat(e.error()).isEqualTo(ApiError.TOO_MANY_MESSAGES));
            } finally {
                brace.release();
            }
        }
    }

    @Test
    void everyElementOfMessagesCountsButNothingNestedInOne() throws Exception {
        String withToolCalls = "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
                + "{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},"
                + "{\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}";
        assertThat(run(limits(2, ROOMY), body(user("a"), withToolCalls))).isEqualTo(new Counts(2, 1));
        // Not an object is still an element; the upstream will say what it thinks of it.
        assertThatThrownBy(() -> run(limits(2, ROOMY), body(user("a"), "\"b\"", "[]")))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.error()).isEqualTo(ApiError.TOO_MANY_MESSAGES));
    }

    @Test
    void aSecondMessagesMemberCountsOnFromTheFirst() {
        String body = "{\"model\":\"client\",\"messages\":[" + user("a") + "," + user("b") + "],\"messages\":["
                + user("c") + "]}";
        assertThatThrownBy(() -> run(limits(2, ROOMY), body))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.error()).isEqualTo(ApiError.TOO_MANY_MESSAGES));
    }

    @Test
    void theDefaultsAreSpecs() {
        assertThat(ContentLimits.DEFAULTS).isEqualTo(new ContentLimits(200, 64_000, ContentRules.NONE));
    }

    // ---------------------------------------------------------------- characters

    @Test
    void stringContentAtTheLimitPassesAndOneMoreIsTooLong() throws Exception {
        assertPassesWhereverCut(limits(ROOMY, 10), body(user("01234"), user("56789")), 2, 10);
        assertRefusedWhereverCut(limits(ROOMY, 9), body(user("01234"), user("56789")), ApiError.MESSAGE_TOO_LONG);
    }

    @Test
    void arrayContentCountsEveryTextPart() throws Exception {
        String parts = "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"01234\"},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/a-long-url.png\"}},"
                + "{\"text\":\"567\",\"type\":\"text\"},\"89\"]}";
        assertPassesWhereverCut(limits(ROOMY, 10), body(parts), 1, 10);
        assertRefusedWhereverCut(limits(ROOMY, 9), body(parts), ApiError.MESSAGE_TOO_LONG);
    }

    @Test
    void toolMessagesCountAndOtherMembersDoNot() throws Exception {
        String system = "{\"role\":\"system\",\"name\":\"a-rather-long-name\",\"content\":\"abc\"}";
        String assistant = "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"lookup\",\"arguments\":\"{\\\"text\\\":\\\"not counted at all\\\"}\"}}]}";
        String tool = "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"defg\"}";
        String odd = "{\"role\":\"user\",\"text\":\"not content\",\"content\":[{\"type\":\"x\",\"x\":{\"text\":\"too deep\"}}]}";
        String body = "{\"model\":\"client\",\"metadata\":{\"content\":\"outside messages\"},\"messages\":["
                + String.join(",", system, assistant, tool, odd) + "]}";
        assertThat(run(limits(ROOMY, 7), body)).isEqualTo(new Counts(4, 7));
        assertThatThrownBy(() -> run(limits(ROOMY, 6), body))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.error()).isEqualTo(ApiError.MESSAGE_TOO_LONG));
    }

    @Test
    void charactersAreCodePointsNotUtf16Units() throws Exception {
        String emoji = "\uD83D\uDE00";                              // one code point, two UTF-16 units, four UTF-8 bytes
        String five = emoji.repeat(4) + "\\uD83D\\uDE00";           // the fifth one JSON-escaped
        assertPassesWhereverCut(limits(ROOMY, 5), body(user(five)), 1, 5);
        assertRefusedWhereverCut(limits(ROOMY, 4), body(user(five)), ApiError.MESSAGE_TOO_LONG);
        assertThat(run(limits(ROOMY, 4), body(user("h\u00e9\u4e16\uD834\uDD1E")))).isEqualTo(new Counts(1, 4));
    }

    @Test
    void aLongTextIsCountedWhole() throws Exception {
        String big = "x".repeat(64_000);
        assertThat(run(ContentLimits.DEFAULTS, body(user(big)), 1000, 30_000, 64_010)).isEqualTo(new Counts(1, 64_000));
        assertThatThrownBy(() -> run(ContentLimits.DEFAULTS, body(user(big.substring(1)), user("yz")), 1000, 30_000))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.error()).isEqualTo(ApiError.MESSAGE_TOO_LONG));
    }

    @Test
    void theRefusalComesWithTheStringThatPassesTheLimitBeforeTheBodyEnds() throws Exception {
        try (ChatRequestInspector in = new ChatRequestInspector(ALLOC, limits(ROOMY, 5))) {
            ByteBuf first = Unpooled.copiedBuffer("{\"model\":\"client\",\"messages\":[" + user("abc") + ",{\"content\":\"def",
                    StandardCharsets.UTF_8);
            in.feed(first);
            first.release();
            ByteBuf quote = Unpooled.copiedBuffer("\"", StandardCharsets.UTF_8);
            try {
                assertThatThrownBy(() -> in.feed(quote))
                        .isInstanceOfSatisfying(InvalidRequestException.class,
                                e -> assertThat(e.error()).isEqualTo(ApiError.MESSAGE_TOO_LONG));
            } finally {
                quote.release();
            }
        }
    }

    // ---------------------------------------------------------------- content rules

    @Test
    void aKeywordMatchesIgnoringCase() throws Exception {
        ContentLimits rules = rules(List.of("forbidden fruit", "x.y"), List.of());
        assertRefusedWhereverCut(rules, body(user("a little FORBIDDEN Fruit pie")), ApiError.CONTENT_FILTER);
        // A keyword is literal: its dot is a dot.
        assertThat(run(rules, body(user("xzy")))).isEqualTo(new Counts(1, 3));
        assertRefusedWhereverCut(rules, body(user("1 X.Y 2")), ApiError.CONTENT_FILTER);
    }

    @Test
    void aKeywordInATextPartOrAToolMessageMatches() {
        ContentLimits rules = rules(List.of("secret"), List.of());
        assertRefusedWhereverCut(rules, body("{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a Secret\"}]}"),
                ApiError.CONTENT_FILTER);
        assertRefusedWhereverCut(rules, body("{\"role\":\"tool\",\"tool_call_id\":\"c\",\"content\":\"secret\"}"),
                ApiError.CONTENT_FILTER);
    }

    @Test
    void onlyMessageTextIsMatchedAndEachTextOnItsOwn() throws Exception {
        ContentLimits rules = rules(List.of("secret"), List.of());
        String elsewhere = "{\"model\":\"client\",\"user\":\"secret\",\"messages\":[{\"role\":\"user\",\"name\":\"secret\","
                + "\"content\":\"fine\"}]}";
        assertThat(run(rules, elsewhere)).isEqualTo(new Counts(1, 4));
        // Documented: a keyword split across two parts, or two messages, is not found.
        String split = "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"sec\"},{\"type\":\"text\",\"text\":\"ret\"}]}";
        assertThat(run(rules, body(split))).isEqualTo(new Counts(1, 6));
        assertThat(run(rules, body(user("sec"), user("ret")))).isEqualTo(new Counts(2, 6));
    }

    @Test
    void aRegularExpressionMatchesAsWritten() throws Exception {
        ContentLimits rules = rules(List.of(), List.of("\\b\\d{4}-\\d{4}-\\d{4}-\\d{4}\\b", "(?i)^drop table"));
        assertRefusedWhereverCut(rules, body(user("card 4111-1111-1111-1111 please")), ApiError.CONTENT_FILTER);
        assertRefusedWhereverCut(rules, body(user("DROP TABLE users")), ApiError.CONTENT_FILTER);
        // Anchors apply to each text; case is not ignored unless the expression says so.
        assertThat(run(rules, body(user("please drop table users")))).isEqualTo(new Counts(1, 23));
        ContentLimits cased = rules(List.of(), List.of("Secret"));
        assertThat(run(cased, body(user("secret")))).isEqualTo(new Counts(1, 6));
        assertRefusedWhereverCut(cased, body(user("Secret")), ApiError.CONTENT_FILTER);
    }

    @Test
    void aMatchAcrossEscapesAndMultibyteCharactersIsFound() {
        ContentLimits rules = rules(List.of("caf\u00e9 \uD83D\uDE00"), List.of());
        assertRefusedWhereverCut(rules, body(user("CAF\\u00c9 \uD83D\uDE00!")), ApiError.CONTENT_FILTER);
    }

    @Test
    void theLengthIsCheckedBeforeTheRules() {
        ContentLimits both = new ContentLimits(ROOMY, 3, ContentRules.of(List.of("abcd"), List.of()));
        assertRefusedWhereverCut(both, body(user("abcd")), ApiError.MESSAGE_TOO_LONG);
    }

    @Test
    void rulesAreCompiledOnceAndCheckedAtStartUp() {
        assertThat(ContentRules.of(List.of(), List.of())).isSameAs(ContentRules.NONE);
        ContentRules r = ContentRules.of(List.of("a", "b"), List.of("c+"));
        assertThat(r.keywordCount()).isEqualTo(2);
        assertThat(r.patterns()).hasSize(1);
        assertThat(r.matches("xxB")).isTrue();
        assertThat(r.matches("xyz")).isFalse();
        assertThatThrownBy(() -> ContentRules.of(List.of(" "), List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ContentRules.of(List.of(), List.of("(unclosed"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ContentRules.of(List.of(), List.of("a|"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty text");
        assertThatThrownBy(() -> new ContentLimits(-1, 5, ContentRules.NONE)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"secret", "", "\uD83D\uDE00"})
    void withoutRulesNothingIsEverMatched(String text) throws Exception {
        assertThat(ContentRules.NONE.isEmpty()).isTrue();
        assertThat(ContentRules.NONE.matches(text)).isFalse();
        assertThat(run(ContentLimits.DEFAULTS, body(user(text)))).isEqualTo(new Counts(1, text.codePointCount(0, text.length())));
    }
}
