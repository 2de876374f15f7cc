package io.tollgate.proxy.chat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class UsageTapTest {

    private static UsageTap tap(String json, int piece) {
        UsageTap tap = new UsageTap();
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i += piece) {
            ByteBuf chunk = Unpooled.wrappedBuffer(b, i, Math.min(piece, b.length - i));
            tap.feed(chunk);
            chunk.release();
        }
        tap.end();
        return tap;
    }

    @Test
    void findsTopLevelUsageButNotNestedLookalikes() {
        String json = "{\"id\":\"x\",\"choices\":[{\"message\":{\"usage\":{\"prompt_tokens\":999}}}],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}";
        for (int piece : new int[]{1, 3, 1000}) {
            UsageTap t = tap(json, piece);
            assertThat(t.usage()).isEqualTo(new Usage(12, 34));
            assertThat(t.choicesEmpty()).isFalse();
        }
    }

    @Test
    void readsAnthropicStyleNamesAndEmptyChoices() {
        UsageTap t = tap("{\"choices\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":6}}", 4);
        assertThat(t.usage()).isEqualTo(new Usage(5, 6));
        assertThat(t.choicesEmpty()).isTrue();
    }

    @Test
    void negativeAndAbsurdNumbersArePassedOnForTheBillerToClamp() {
        assertThat(tap("{\"usage\":{\"prompt_tokens\":-5,\"completion_tokens\":99999999999999999999999}}", 3).usage())
                .isEqualTo(new Usage(-5, Long.MAX_VALUE));
    }

    @Test
    void noUsageOrBrokenJsonMeansNone() {
        assertThat(tap("{\"usage\":null}", 2).usage()).isNull();
        assertThat(tap("{\"usage\":{\"prompt_tokens\":", 2).usage()).isNull();
        assertThat(tap("not json at all", 2).usage()).isNull();
    }

    @Test
    void malformedJsonIsReadUpToWhereItBreaks() {
        for (int piece : new int[] {1, 3, 1000}) {
            // What came before the break stands; nothing after it counts.
            assertThat(tap("{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":012}}", piece).usage())
                    .as("a leading zero").isEqualTo(new Usage(5, 0));
            assertThat(tap("{\"usage\":{\"prompt_tokens\":5,},\"usage\":{\"prompt_tokens\":6}}", piece).usage())
                    .as("a trailing comma").isEqualTo(new Usage(5, 0));
            assertThat(tap("{\"usage\":{\"prompt_tokens\":12x}}", piece).usage()).as("12x").isNull();
            assertThat(tap("{\"usage\":{\"prompt_tokens\":-0f}}", piece).usage()).as("-0f").isNull();
            assertThat(tap("{\"ok\":truex,\"usage\":{\"prompt_tokens\":5}}", piece).usage()).as("truex").isNull();
            assertThat(tap("{\"id\":\"a\u0001b\",\"usage\":{\"prompt_tokens\":5}}", piece).usage())
                    .as("a raw control character").isNull();
            assertThat(tap("{\"id\":\"\\x\",\"usage\":{\"prompt_tokens\":5}}", piece).usage())
                    .as("an unknown escape").isNull();
            assertThat(tap("{\"id\":1 // comment\n,\"usage\":{\"prompt_tokens\":5}}", piece).usage())
                    .as("a comment").isNull();
        }
    }

    @Test
    void namesAreReadWithTheirEscapesAndTextIsNeverMistakenForThem() {
        assertThat(tap("{\"us\\u0061ge\":{\"prompt\\u005ftokens\":7}}", 2).usage()).isEqualTo(new Usage(7, 0));
        assertThat(tap("{\"content\":\"\\\"usage\\\":{\\\"prompt_tokens\\\":9}\"}", 2).usage()).isNull();
        assertThat(tap("{\"usage\":{\"prompt_tokens\":7.0,\"completion_tokens\":3}}", 2).usage())
                .as("a count that is not an integer is not one").isEqualTo(new Usage(0, 3));
        assertThat(tap("{\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens\":3}}", 5)
                .usage()).isEqualTo(new Usage(0, 3));
    }

    @Test
    void aLongAnswerIsReadInAnyPieces() {
        String text = "x".repeat(100_000) + "\\\"" + "é".repeat(1000);
        String json = "{\"choices\":[{\"message\":{\"content\":\"" + text + "\"}}],\"usage\":{\"prompt_tokens\":1,"
                + "\"completion_tokens\":2}}";
        for (int piece : new int[] {7, 8192, 100_000}) {
            assertThat(tap(json, piece).usage()).isEqualTo(new Usage(1, 2));
        }
    }
}
