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
}
