package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.tollgate.proxy.mock.MockClient.json;
import static org.assertj.core.api.Assertions.assertThat;

class ChatAnswersTest {

    private final ByteBufAllocator alloc = UnpooledByteBufAllocator.DEFAULT;
    private final ChatAnswers answers = new ChatAnswers();

    @Test
    void numbersAnswers() {
        assertThat(answers.open("m", 1, 1).id()).isEqualTo("chatcmpl-1");
        assertThat(answers.open("m", 1, 1).id()).isEqualTo("chatcmpl-2");
    }

    @Test
    void everyPieceIsValidJsonAndTheChunksAddUpToTheCompletion() {
        ChatAnswers.Answer answer = answers.open("m\"\\\n", 12, 20);

        JsonNode completion = json(text(answer.completion(alloc, true)));
        StringBuilder streamed = new StringBuilder();
        for (int i = 0; i < answer.chunkCount(); i++) {
            String event = text(answer.chunk(alloc, i, true));
            assertThat(event).startsWith("data: ").endsWith("\n\n");
            JsonNode chunk = json(event.substring(6));
            assertThat(chunk.path("model").asText()).isEqualTo("m\"\\\n");
            streamed.append(chunk.path("choices").path(0).path("delta").path("content").asText());
        }
        JsonNode usage = json(text(answer.usageChunk(alloc)).substring(6)).path("usage");

        assertThat(streamed.toString()).isEqualTo(completion.path("choices").path(0).path("message").path("content").asText());
        assertThat(completion.path("usage")).isEqualTo(usage);
        assertThat(usage.path("total_tokens").asLong()).isEqualTo(32);
        assertThat(json(text(answer.completion(alloc, false))).has("usage")).isFalse();
        assertThat(text(ChatAnswers.Answer.done(alloc))).isEqualTo("data: [DONE]\n\n");
    }

    private static String text(ByteBuf buf) {
        try {
            return buf.toString(StandardCharsets.UTF_8);
        } finally {
            buf.release();
        }
    }
}
