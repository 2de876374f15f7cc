package io.tollgate.bench.load;

import io.tollgate.proxy.mock.MockProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

/** The generator against the real mock provider on loopback: short runs, real sockets. */
class DriveTest {

    static MockProvider mock;
    static LoadClient client;

    @BeforeAll
    static void start() {
        mock = MockProvider.start("127.0.0.1", 0, MockProvider.Options.defaults());
        client = new LoadClient(1);
    }

    @AfterAll
    static void stop() {
        client.close();
        mock.close();
    }

    static Request chat(boolean stream, Map<String, String> headers) {
        String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" + (stream ? ",\"stream\":true" : "") + "}";
        return Request.post("127.0.0.1", mock.port(), "/v1/chat/completions",
                merge(Map.of("Authorization", "Bearer x"), headers), body.getBytes(StandardCharsets.UTF_8), stream);
    }

    static Map<String, String> merge(Map<String, String> a, Map<String, String> b) {
        var m = new java.util.LinkedHashMap<>(a);
        m.putAll(b);
        return m;
    }

    @Test
    void sendsAtTheAskedRate() {
        List<LoadConnection> conns = client.connect("127.0.0.1", mock.port(), 4);
        Drive.closedLoop(conns, chat(false, Map.of()), Duration.ofMillis(500), Duration.ofSeconds(2));     // warm both sides
        RunResult r = Drive.constantRate(conns, chat(false, Map.of()), 400, Duration.ofSeconds(1), Duration.ofSeconds(2), 0);
        LoadClient.closeAll(conns);

        assertThat(r.stats().failures()).isZero();
        assertThat((double) r.stats().ok).isCloseTo(400, within(20.0));
        assertThat(r.stats().latency.getTotalCount()).isEqualTo(r.stats().ok);
        assertThat(r.stats().latency.getValueAtPercentile(50)).isLessThan(50_000);
        assertThat(r.stats().unsent).isZero();
    }

    @Test
    void chargesAStallToEveryRequestItDelayed() {
        // Every answer takes 50 ms while the schedule asks for one every 10 ms on one connection:
        // corrected latencies grow far past 50 ms, the uncorrected ones stay near it.
        List<LoadConnection> conns = client.connect("127.0.0.1", mock.port(), 1);
        RunResult r = Drive.constantRate(conns, chat(false, Map.of("x-mock-first-byte-delay-ms", "50")), 100,
                Duration.ofSeconds(1), Duration.ofSeconds(2), 0);
        LoadClient.closeAll(conns);

        assertThat(r.stats().uncorrected.getValueAtPercentile(50)).isBetween(50_000L, 70_000L);
        assertThat(r.stats().latency.getMaxValue()).isGreaterThan(500_000);
        assertThat(r.stats().unsent).isGreaterThan(50);
    }

    @Test
    void timesEveryEventOfAStream() {
        List<LoadConnection> conns = client.connect("127.0.0.1", mock.port(), 2);
        RunResult r = Drive.constantRate(conns, chat(true, Map.of("x-mock-tokens", "5", "x-mock-chunk-delay-ms", "20")),
                10, Duration.ofSeconds(1), Duration.ofSeconds(2), 5);
        LoadClient.closeAll(conns);

        assertThat(r.stats().failures()).isZero();
        assertThat(r.stats().ok).isEqualTo(10);
        assertThat(r.stats().events).isEqualTo(10 * 6);                 // 5 chunks and [DONE]
        assertThat(r.stats().gaps.getTotalCount()).isEqualTo(10 * 4);    // between the 5 chunks only
        assertThat(r.stats().gaps.getValueAtPercentile(50)).isBetween(19_000L, 30_000L);
        assertThat(r.stats().ttfb.getTotalCount()).isEqualTo(10);
    }

    @Test
    void closedLoopKeepsEveryConnectionBusy() {
        List<LoadConnection> conns = client.connect("127.0.0.1", mock.port(), 2);
        RunResult r = Drive.closedLoop(conns, chat(false, Map.of()), Duration.ofMillis(500), Duration.ofSeconds(2));
        LoadClient.closeAll(conns);

        assertThat(r.stats().ok).isGreaterThan(100);
        assertThat(r.stats().failures()).isZero();
    }

    @Test
    void countsErrorsAndReconnects() {
        List<LoadConnection> conns = client.connect("127.0.0.1", mock.port(), 1);
        RunResult r = Drive.constantRate(conns, chat(false, Map.of("x-mock-behavior", "close-before-head")), 20,
                Duration.ofMillis(500), Duration.ofSeconds(2), 0);
        LoadClient.closeAll(conns);

        assertThat(r.stats().errors).isEqualTo(r.stats().sent).isGreaterThanOrEqualTo(9);
        assertThat(conns.get(0).reconnects()).isGreaterThanOrEqualTo(8);
    }

    @Test
    void holdsStreamsOpen() {
        Request slow = chat(true, Map.of("x-mock-tokens", "3", "x-mock-chunk-delay-ms", "300"));
        try (StreamHold hold = StreamHold.open(client, "127.0.0.1", mock.port(), slow, 50, 500)) {
            await().atMost(Duration.ofSeconds(5)).until(() -> hold.active() == 50);
            await().atMost(Duration.ofSeconds(5)).until(() -> hold.completed() == 50);
            assertThat(hold.failed()).isZero();
            assertThat(hold.events()).isEqualTo(50 * 4);
        }
    }
}
