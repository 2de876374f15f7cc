package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import static io.tollgate.proxy.mock.MockClient.MESSAGES_PROMPT_TOKENS;
import static io.tollgate.proxy.mock.MockClient.STREAM;
import static io.tollgate.proxy.mock.MockClient.STREAM_WITH_USAGE;
import static io.tollgate.proxy.mock.MockClient.events;
import static io.tollgate.proxy.mock.MockClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Server-sent-event answers: shape, usage, pacing. */
class MockProviderStreamTest extends RunningMockTest {

    @Test
    void streamsOneChunkPerTokenThenDone() throws Exception {
        HttpResponse<String> response = client.chat(STREAM, MockHeaders.TOKENS, "4");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("text/event-stream");
        assertThat(response.headers().firstValue("transfer-encoding")).hasValue("chunked");
        assertThat(response.body()).doesNotContain("usage").endsWith("data: [DONE]\n\n");
        List<String> events = events(response.body());
        assertThat(events).hasSize(5).last().isEqualTo("[DONE]");

        StringBuilder content = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            JsonNode chunk = json(events.get(i));
            assertThat(chunk.path("id").asText()).isEqualTo("chatcmpl-1");
            assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(chunk.path("model").asText()).isEqualTo("gpt-test");
            assertThat(chunk.has("created")).isTrue();
            JsonNode choice = chunk.path("choices").path(0);
            assertThat(chunk.path("choices")).hasSize(1);
            assertThat(choice.path("delta").has("role")).isEqualTo(i == 0);
            assertThat(choice.path("finish_reason").isNull()).isEqualTo(i < 3);
            content.append(choice.path("delta").path("content").asText());
        }
        assertThat(json(events.get(0)).path("choices").path(0).path("delta").path("role").asText()).isEqualTo("assistant");
        assertThat(json(events.get(3)).path("choices").path(0).path("finish_reason").asText()).isEqualTo("stop");
        assertThat(content.toString()).isEqualTo("Hello from the Tollgate");
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @Test
    void includeUsageAddsUsageNullToChunksAndAFinalUsageChunk() throws Exception {
        HttpResponse<String> response = client.chat(STREAM_WITH_USAGE, MockHeaders.TOKENS, "3");

        List<String> events = events(response.body());
        assertThat(events).hasSize(3 + 1 + 1).last().isEqualTo("[DONE]");
        for (int i = 0; i < 3; i++) {
            JsonNode chunk = json(events.get(i));
            assertThat(chunk.has("usage")).isTrue();
            assertThat(chunk.path("usage").isNull()).isTrue();
            assertThat(chunk.path("choices")).hasSize(1);
        }
        JsonNode usageChunk = json(events.get(3));
        assertThat(usageChunk.path("id").asText()).isEqualTo("chatcmpl-1");
        assertThat(usageChunk.path("object").asText()).isEqualTo("chat.completion.chunk");
        assertThat(usageChunk.path("choices").isArray()).isTrue();
        assertThat(usageChunk.path("choices")).isEmpty();
        assertThat(usageChunk.path("usage").path("prompt_tokens").asLong()).isEqualTo(MESSAGES_PROMPT_TOKENS);
        assertThat(usageChunk.path("usage").path("completion_tokens").asLong()).isEqualTo(3);
        assertThat(usageChunk.path("usage").path("total_tokens").asLong()).isEqualTo(MESSAGES_PROMPT_TOKENS + 3);

        assertThat(mock.reportedUsages()).containsExactly(new MockProvider.Usage("chatcmpl-1", MESSAGES_PROMPT_TOKENS, 3));
    }

    @Test
    void includeUsageFalseSendsNoUsage() throws Exception {
        String body = STREAM_WITH_USAGE.replace("\"include_usage\":true", "\"include_usage\":false");

        HttpResponse<String> response = client.chat(body, MockHeaders.TOKENS, "2");

        assertThat(response.body()).doesNotContain("usage");
        assertThat(events(response.body())).hasSize(3);
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @Test
    void eventsArriveOneByOneWhileTheMockIsStillWriting() throws Exception {
        HttpResponse<Stream<String>> response = client.stream(STREAM_WITH_USAGE,
                MockHeaders.TOKENS, "5", MockHeaders.CHUNK_DELAY_MS, "200");
        assertThat(response.statusCode()).isEqualTo(200);

        List<Long> arrivals = new ArrayList<>();
        List<String> events = new ArrayList<>();
        try (Stream<String> lines = response.body()) {
            Iterator<String> it = lines.filter(line -> line.startsWith("data: ")).iterator();
            events.add(it.next());
            arrivals.add(System.nanoTime());
            // The usage chunk is recorded as it is written, after the last token: not yet.
            assertThat(mock.reportedUsages()).isEmpty();
            while (it.hasNext()) {
                events.add(it.next());
                arrivals.add(System.nanoTime());
            }
        }

        assertThat(events).hasSize(5 + 1 + 1);
        assertThat(json(events.getFirst().substring(6)).path("choices").path(0).path("delta").path("role").asText())
                .isEqualTo("assistant");
        // Four pauses of 200 ms separate the five token chunks.
        assertThat(Duration.ofNanos(arrivals.get(4) - arrivals.get(0))).isGreaterThanOrEqualTo(Duration.ofMillis(700));
        await().atMost(Duration.ofSeconds(5)).until(() -> mock.reportedUsages().size() == 1);
    }

    @Test
    void anEmptyAnswerIsOneChunkThatFinishes() throws Exception {
        HttpResponse<String> response = client.chat(STREAM_WITH_USAGE, MockHeaders.TOKENS, "0");

        List<String> events = events(response.body());
        assertThat(events).hasSize(3);
        JsonNode choice = json(events.get(0)).path("choices").path(0);
        assertThat(choice.path("delta").path("role").asText()).isEqualTo("assistant");
        assertThat(choice.path("delta").path("content").asText()).isEmpty();
        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
        assertThat(json(events.get(1)).path("usage").path("completion_tokens").asLong()).isZero();
    }

    @Test
    void aLongStreamRepeatsTheWords() throws Exception {
        HttpResponse<String> response = client.chat(STREAM, MockHeaders.TOKENS, "40");

        List<String> events = events(response.body());
        assertThat(events).hasSize(41);
        StringBuilder content = new StringBuilder();
        events.subList(0, 40).forEach(e -> content.append(json(e).path("choices").path(0).path("delta").path("content").asText()));
        String nonStreamed = json(client.chat(MockClient.CHAT, MockHeaders.TOKENS, "40").body())
                .path("choices").path(0).path("message").path("content").asText();
        assertThat(content.toString()).isEqualTo(nonStreamed);
        assertThat(nonStreamed.split(" ")).hasSize(40);
    }
}
