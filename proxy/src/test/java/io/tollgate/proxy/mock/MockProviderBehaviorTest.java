package io.tollgate.proxy.mock;

import org.junit.jupiter.api.Test;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static io.tollgate.proxy.mock.MockClient.CHAT;
import static io.tollgate.proxy.mock.MockClient.STREAM;
import static io.tollgate.proxy.mock.MockClient.STREAM_WITH_USAGE;
import static io.tollgate.proxy.mock.MockClient.events;
import static io.tollgate.proxy.mock.MockClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Every {@code x-mock-behavior}: the broken upstreams the gateway must survive. */
class MockProviderBehaviorTest extends RunningMockTest {

    @Test
    void closeBeforeHeadClosesWithoutAByte() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(CHAT, "x-mock-behavior: close-before-head"));

            assertThat(raw.read()).isEqualTo(-1);
        }
        assertThatThrownBy(() -> client.chat(CHAT, MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_CLOSE_BEFORE_HEAD))
                .isInstanceOf(IOException.class);
        assertThat(mock.requests()).hasSize(2);
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @Test
    void closeBeforeHeadWaitsForTheFirstByteDelay() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            long started = System.nanoTime();
            raw.send(RawHttp.chatRequest(CHAT, "x-mock-behavior: close-before-head", "x-mock-first-byte-delay-ms: 200"));

            assertThat(raw.read()).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        }
    }

    @Test
    void garbageWritesBytesThatAreNotHttpThenCloses() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(CHAT, "x-mock-behavior: garbage"));

            String bytes = new String(raw.readToEof(), StandardCharsets.ISO_8859_1);
            assertThat(bytes).isNotEmpty().doesNotStartWith("HTTP/");
        }
        assertThatThrownBy(() -> client.chat(CHAT, MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_GARBAGE))
                .isInstanceOf(IOException.class);
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @Test
    void hangKeepsTheConnectionOpenWithoutAnsweringUntilClose() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(STREAM, "x-mock-behavior: hang"));
            await().atMost(Duration.ofSeconds(5)).until(() -> mock.requests().size() == 1);

            raw.socket().setSoTimeout(300);
            assertThatThrownBy(raw::read).isInstanceOf(SocketTimeoutException.class);

            raw.socket().setSoTimeout(5_000);
            mock.close();
            assertThat(raw.read()).isEqualTo(-1);
        }
    }

    @Test
    void hangTimesOutAnHttpClient() {
        assertThatThrownBy(() -> client.send(client.chatRequest(CHAT, MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_HANG)
                .timeout(Duration.ofMillis(300)).build()))
                .isInstanceOf(HttpTimeoutException.class);
    }

    @Test
    void closeMidStreamSendsHalfTheChunksAndNoDone() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(STREAM_WITH_USAGE, "x-mock-behavior: close-mid-stream", "x-mock-tokens: 6"));

            String wire = new String(raw.readToEof(), StandardCharsets.UTF_8);
            assertThat(wire).startsWith("HTTP/1.1 200 OK").contains("text/event-stream");
            assertThat(wire.split("data: \\{", -1)).hasSize(3 + 1);
            assertThat(wire).doesNotContain("[DONE]").doesNotContain("\"choices\":[]").doesNotEndWith("0\r\n\r\n");
        }
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @Test
    void closeMidStreamFailsTheStreamForAnHttpClient() throws Exception {
        HttpResponse<Stream<String>> response = client.stream(STREAM,
                MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_CLOSE_MID_STREAM, MockHeaders.TOKENS, "4",
                MockHeaders.CHUNK_DELAY_MS, "20");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThatThrownBy(() -> response.body().toList()).isInstanceOf(UncheckedIOException.class);
    }

    @Test
    void closeMidStreamCutsANonStreamedBodyShort() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(CHAT, "x-mock-behavior: close-mid-stream"));

            assertThatThrownBy(raw::readResponse).isInstanceOf(EOFException.class).hasMessageContaining("body ended");
        }
        assertThatThrownBy(() -> client.chat(CHAT, MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_CLOSE_MID_STREAM))
                .isInstanceOf(IOException.class);
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @Test
    void usageMissingStreamsWithoutTheUsageChunk() throws Exception {
        HttpResponse<String> response = client.chat(STREAM_WITH_USAGE,
                MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_USAGE_MISSING, MockHeaders.TOKENS, "3");

        List<String> events = events(response.body());
        assertThat(events).hasSize(3 + 1).last().isEqualTo("[DONE]");
        events.subList(0, 3).forEach(e -> {
            assertThat(json(e).path("choices")).hasSize(1);
            assertThat(json(e).path("usage").isNull()).isTrue();
        });
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @Test
    void usageMissingAnswersWithoutUsage() throws Exception {
        HttpResponse<String> response = client.chat(CHAT, MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_USAGE_MISSING);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(json(response.body()).has("usage")).isFalse();
        assertThat(json(response.body()).path("choices").path(0).path("message").path("content").asText()).isNotEmpty();
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @Test
    void behaviorsApplyToEveryEndpoint() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send("GET /v1/models HTTP/1.1\r\nHost: mock\r\nx-mock-behavior: close-before-head\r\n\r\n");

            assertThat(raw.read()).isEqualTo(-1);
        }
    }
}
