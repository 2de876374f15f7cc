package io.tollgate.proxy;

import io.tollgate.proxy.limit.FailurePolicy;
import io.tollgate.proxy.limit.LimiterConfig;
import io.tollgate.schema.Account;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.RateLimits;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Requests per minute through the whole proxy: headers, 429, no upstream call, no cost, shared limits. */
class RateLimitTest {

    private static final String BODY = Gateway.chatBody(Gateway.MODEL, false);

    /** A funded account on tier {@code tier} and a key with {@code overrides}. */
    private static String key(Gateway gw, String tier, RateLimits overrides) {
        Account a = gw.accounts.create("rl-" + System.nanoTime(), tier);
        gw.accounts.credit(a.id(), new BigDecimal("100"), "topup", "test", null);
        KeyStore.Created k = gw.keys.create(a.id(), "rl", null, null, null, overrides, 3);
        gw.awaitKnown(k.plaintext());
        return k.plaintext();
    }

    private static HttpResponse<String> chat(Gateway gw, int port, String key) throws Exception {
        return gw.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                .header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void thirtyPerMinutePassWithHeadersAndTheThirtyFirstIs429WithoutReachingTheUpstreamOrCosting()
            throws Exception {
        try (Gateway gw = new Gateway()) {
            String key = key(gw, "tight", RateLimits.NONE);
            List<Integer> remaining = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                HttpResponse<String> r = gw.chat(key, BODY);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("x-ratelimit-limit")).hasValue("30");
                assertThat(r.headers().firstValue("x-ratelimit-reset")).isPresent();
                remaining.add(Integer.parseInt(r.headers().firstValue("x-ratelimit-remaining").orElseThrow()));
            }
            assertThat(remaining).isSortedAccordingTo((a, b) -> Integer.compare(b, a));
            int upstreamBefore = gw.mock.headsReceived();

            HttpResponse<String> refused = gw.chat(key, BODY);

            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(refused.body()).contains("\"code\":\"rate_limit_exceeded\"");
            assertThat(Long.parseLong(refused.headers().firstValue("retry-after").orElseThrow())).isBetween(1L, 60L);
            assertThat(refused.headers().firstValue("x-ratelimit-remaining")).hasValue("0");
            assertThat(gw.mock.headsReceived()).isEqualTo(upstreamBefore);
            String id = refused.headers().firstValue("x-request-id").orElseThrow();
            gw.awaitSettled();
            assertThat(gw.queryNumber("SELECT credits FROM request_log WHERE request_id = '" + id + "'")).isZero();
            assertThat(gw.queryNumber("SELECT count(*) FROM ledger WHERE request_id = '" + id + "'")).isZero();
        }
    }

    @Test
    void aKeysOwnLimitOverridesItsTierAndAChangeArrivesWithinASecond() throws Exception {
        try (Gateway gw = new Gateway()) {
            Account a = gw.accounts.create("rl-override", "tight");
            gw.accounts.credit(a.id(), new BigDecimal("100"), "topup", "test", null);
            KeyStore.Created k = gw.keys.create(a.id(), "rl", null, null, null, new RateLimits(3, null, null), 3);
            gw.awaitKnown(k.plaintext());
            for (int i = 0; i < 3; i++) {
                assertThat(gw.chat(k.plaintext(), BODY).statusCode()).isEqualTo(200);
            }
            assertThat(gw.chat(k.plaintext(), BODY).statusCode()).isEqualTo(429);

            gw.keys.update(k.key().id(), new KeyStore.Patch(null, null, null, false, null, false, null, false,
                    new RateLimits(1000, null, null)));

            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(50))
                    .until(() -> gw.chat(k.plaintext(), BODY).statusCode() == 200);
        }
    }

    @Test
    void twoProxiesOnOneRedisEnforceOneLimit() throws Exception {
        LimiterConfig shared = Gateway.roomyLimits().withRedisUrl("redis://127.0.0.1:6379");
        try (Gateway gw = new Gateway(Gateway.config(), shared);
             ProxyServer second = ProxyServer.start(Gateway.config(), shared, gw.db.database())) {
            String key = key(gw, "tight", RateLimits.NONE);
            await().atMost(Duration.ofSeconds(5)).until(() -> chat(gw, second.port(), key).statusCode() == 200);
            int allowed = 1;
            for (int i = 0; i < 60; i++) {
                int port = i % 2 == 0 ? gw.proxy.port() : second.port();
                int status = chat(gw, port, key).statusCode();
                assertThat(status).isIn(200, 429);
                if (status == 200) {
                    allowed++;
                }
            }
            assertThat(allowed).isEqualTo(30);

            // Moving the account to a roomier tier lifts the limit on both instances within a second.
            String accountId = gw.keys.findByHash(io.tollgate.schema.ApiKeySecrets.hash(key)).orElseThrow().accountId();
            gw.accounts.update(accountId, null, "pro", null);
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(50)).until(() ->
                    chat(gw, gw.proxy.port(), key).statusCode() == 200 && chat(gw, second.port(), key).statusCode() == 200);

            // An admin change reaches both instances within a second.
            String other = key(gw, "tight", RateLimits.NONE);
            await().atMost(Duration.ofSeconds(5)).until(() -> chat(gw, second.port(), other).statusCode() == 200);
            gw.keys.revoke(gw.keys.findByHash(io.tollgate.schema.ApiKeySecrets.hash(other)).orElseThrow().id());
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(50)).until(() ->
                    chat(gw, gw.proxy.port(), other).statusCode() == 401 && chat(gw, second.port(), other).statusCode() == 401);
        }
    }

    @Test
    void whenRedisIsAwayFailClosedAnswers503AndFailOpenFallsBackToTheLocalLimiter() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        LimiterConfig closed = Gateway.roomyLimits().withRedisUrl("redis://127.0.0.1:" + deadPort)
                .withFailurePolicy(FailurePolicy.CLOSED);
        try (Gateway gw = new Gateway(Gateway.config(), closed)) {
            String key = key(gw, "pro", RateLimits.NONE);
            HttpResponse<String> r = gw.chat(key, BODY);
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("\"code\":\"service_unavailable\"");
            assertThat(gw.mock.headsReceived()).isZero();
        }
        try (Gateway gw = new Gateway(Gateway.config(), closed.withFailurePolicy(FailurePolicy.OPEN))) {
            String key = key(gw, "tight", RateLimits.NONE);
            int ok = 0;
            for (int i = 0; i < 31; i++) {
                if (gw.chat(key, BODY).statusCode() == 200) {
                    ok++;
                }
            }
            assertThat(ok).isEqualTo(30);                   // the local limiter holds the same line
        }
    }
}
