package io.tollgate.proxy;

import io.tollgate.schema.LedgerEntry;
import io.tollgate.schema.LedgerStore;
import io.tollgate.schema.Upstream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failures injected after credits were reserved, on every path we know: each request ends with
 * exactly one request-log row, a settlement only when output was delivered, and its reservation
 * released exactly once (a leaked or doubly released reservation keeps the proxy from giving its
 * lease back, which would leave the account's reserved credits above zero).
 */
class EveryPathSettlesOnceTest {

    private record Case(String name, String model, boolean stream, String body, Map<String, String> headers,
                        boolean chunkedBody, int expectedStatus, boolean billed) {
    }

    @Test
    void everyRequestIdIsSettledOrReleasedExactlyOnce() throws Exception {
        try (Gateway gw = new Gateway(Gateway.config()
                .withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(30)))) {
            int deadPort;
            try (ServerSocket s = new ServerSocket(0)) {
                deadPort = s.getLocalPort();
            }
            Upstream dead = gw.upstreams.create("dead", "openai", "http://127.0.0.1:" + deadPort + "/v1", "k", 1, 0, true);
            gw.putModel("dead-chat", dead, "mock-model", true, true);
            gw.awaitModels("dead-chat");
            Gateway.Funded f = gw.fund("100");
            String plain = Gateway.chatBody(Gateway.MODEL, false);
            String streamed = Gateway.chatBody(Gateway.MODEL, true);
            String tooBig = "{\"model\":\"" + Gateway.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
                    + "a".repeat(600 * 1024) + "\"}]}";
            String brokenAfterModel = "{\"model\":\"" + Gateway.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}] oops}";

            List<Case> cases = List.of(
                    new Case("ok", Gateway.MODEL, false, plain, Map.of(), false, 200, true),
                    new Case("ok stream", Gateway.MODEL, true, streamed, Map.of(), false, 200, true),
                    new Case("upstream 500", Gateway.MODEL, false, plain, Map.of("x-mock-status", "500"), false, 502, false),
                    new Case("upstream closes", Gateway.MODEL, false, plain, Map.of("x-mock-behavior", "close-before-head"), false, 502, false),
                    new Case("upstream garbage", Gateway.MODEL, false, plain, Map.of("x-mock-behavior", "garbage"), false, 502, false),
                    new Case("upstream slow", Gateway.MODEL, false, plain, Map.of("x-mock-first-byte-delay-ms", "3000"), false, 504, false),
                    new Case("upstream refused", "dead-chat", false, Gateway.chatBody("dead-chat", false), Map.of(), false, 502, false),
                    new Case("cut mid-stream", Gateway.MODEL, true, streamed, Map.of("x-mock-behavior", "close-mid-stream", "x-mock-tokens", "10"), false, 200, true),
                    new Case("no usage", Gateway.MODEL, true, streamed, Map.of("x-mock-behavior", "usage-missing"), false, 200, true),
                    new Case("over the limit", Gateway.MODEL, false, tooBig, Map.of(), true, 413, false),
                    new Case("broken after model", Gateway.MODEL, false, brokenAfterModel, Map.of(), false, 400, false));

            List<String> ids = new ArrayList<>();
            int billed = 0;
            for (Case c : cases) {
                HttpRequest.Builder b = HttpRequest.newBuilder(gw.uri("/v1/chat/completions"))
                        .header("authorization", "Bearer " + f.key());
                c.headers().forEach(b::header);
                byte[] bytes = c.body().getBytes(StandardCharsets.UTF_8);
                b.POST(c.chunkedBody()
                        ? HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes))
                        : HttpRequest.BodyPublishers.ofByteArray(bytes));
                HttpResponse<String> r;
                try {
                    r = gw.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                } catch (java.io.IOException cut) {
                    // A stream cut mid-way is seen by the client as a broken body: that is the point.
                    assertThat(c.name()).isEqualTo("cut mid-stream");
                    billed++;
                    continue;
                }
                assertThat(r.statusCode()).as(c.name() + ": " + r.body()).isEqualTo(c.expectedStatus());
                ids.add(r.headers().firstValue("x-request-id").orElseThrow());
                if (c.billed()) {
                    billed++;
                }
            }
            gw.awaitSettled();

            // One request-log row per request, whatever happened to it.
            assertThat(gw.queryNumber("SELECT count(*) FROM request_log WHERE key_id = '" + f.keyId() + "'").intValue())
                    .isEqualTo(cases.size());
            // A settlement exactly for the requests that delivered output, each once.
            List<LedgerEntry> settlements = new LedgerStore(gw.db.database().dataSource()).list(f.accountId(), 100)
                    .stream().filter(e -> e.kind().equals("settlement")).toList();
            assertThat(settlements).hasSize(billed);
            assertThat(settlements).extracting(LedgerEntry::requestId).doesNotHaveDuplicates();
            for (String id : ids) {
                BigDecimal credits = gw.queryNumber("SELECT credits FROM request_log WHERE request_id = '" + id + "'");
                long entries = settlements.stream().filter(e -> e.requestId().equals(id)).count();
                assertThat(entries).as(id).isEqualTo(credits.signum() > 0 ? 1 : 0);
            }
            // Every reservation released exactly once: the lease can be given back whole.
            gw.proxy.returnLeases();
            assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isZero();
            assertThat(gw.queryNumber("SELECT count(*) FROM credit_leases")).isZero();
            assertThat(gw.accounts.find(f.accountId()).orElseThrow().balance())
                    .isEqualByComparingTo(new BigDecimal("100").add(settlements.stream()
                            .map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add)));
        }
    }
}
