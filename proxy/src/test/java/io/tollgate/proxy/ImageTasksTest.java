package io.tollgate.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.proxy.billing.Prices;
import io.tollgate.proxy.media.MediaConfig;
import io.tollgate.proxy.mock.MockHeaders;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.LedgerEntry;
import io.tollgate.schema.LedgerStore;
import io.tollgate.schema.RateLimits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static io.tollgate.proxy.MediaModels.IMAGE_MODEL;
import static io.tollgate.proxy.MediaModels.IMAGE_PRICING;
import static io.tollgate.proxy.MediaModels.get;
import static io.tollgate.proxy.MediaModels.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code POST /images/generations} with {@code "async": true}: a task the gateway runs, polled at {@code /images/tasks/{id}}. */
class ImageTasksTest {

    static Gateway gw;

    @BeforeAll
    static void start() {
        gw = new Gateway(Gateway.config(), Gateway.roomyLimits(), MediaConfig.defaults().withPolling(Duration.ZERO, Duration.ofHours(1)));
        MediaModels.put(gw);
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    static String asyncBody(int n) {
        return "{\"model\":\"" + IMAGE_MODEL + "\",\"prompt\":\"a fox\",\"n\":" + n + ",\"async\":true}";
    }

    static JsonNode pollUntil(String key, String id, String status) {
        JsonNode[] last = new JsonNode[1];
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(25)).until(() -> {
            HttpResponse<String> r = get(gw, "/v1/images/tasks/" + id, key);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            last[0] = ApiErrors.JSON.readTree(r.body());
            return last[0].get("status").asText().equals(status);
        });
        return last[0];
    }

    static List<LedgerEntry> settlements(String accountId) {
        return new LedgerStore(gw.db.database().dataSource()).list(accountId, 100).stream()
                .filter(e -> e.kind().equals("settlement")).toList();
    }

    static void assertNothingReserved(Gateway.Funded f) throws Exception {
        gw.awaitSettled();
        gw.proxy.returnLeases();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isZero();
    }

    @Test
    void anAsyncImageRequestIsATaskSettledOnceOnItsImages() throws Exception {
        Gateway.Funded f = gw.fund("10");
        HttpResponse<String> submitted = post(gw, "/v1/images/generations", f.key(), asyncBody(3),
                MockHeaders.FIRST_BYTE_DELAY_MS, "300");
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(200);
        JsonNode task = ApiErrors.JSON.readTree(submitted.body());
        assertThat(task.get("object").asText()).isEqualTo("image.task");
        assertThat(task.get("status").asText()).isIn("queued", "running");
        assertThat(task.has("data")).isFalse();
        String id = task.get("id").asText();
        String submitId = submitted.headers().firstValue("x-request-id").orElseThrow();

        JsonNode done = pollUntil(f.key(), id, "succeeded");
        assertThat(done.get("data")).hasSize(3);
        assertThat(done.at("/data/0/url").asText()).startsWith("https://");
        for (int i = 0; i < 3; i++) {
            assertThat(get(gw, "/api/v1/images/tasks/" + id, f.key()).statusCode()).isEqualTo(200);
        }
        // The upstream got a plain synchronous request: its own model, no async member.
        JsonNode sent = ApiErrors.JSON.readTree(gw.mock.requests().stream()
                .filter(r -> r.headers().get("x-request-id").equals(submitId)).findFirst().orElseThrow().bodyUtf8());
        assertThat(sent.get("model").asText()).isEqualTo("mock-image");
        assertThat(sent.has("async")).isFalse();

        assertNothingReserved(f);
        assertThat(settlements(f.accountId())).singleElement().satisfies(e -> {
            assertThat(e.amount()).isEqualByComparingTo(Prices.images(IMAGE_PRICING, 3).negate());
            assertThat(e.requestId()).isEqualTo(submitId);
        });
        assertThat(gw.queryNumber("SELECT credits FROM request_log WHERE request_id = '" + submitId
                + "' AND endpoint = '/images/generations'")).isEqualByComparingTo(Prices.images(IMAGE_PRICING, 3));
        assertThat(gw.queryNumber("SELECT count(*) FROM request_log WHERE key_id = '" + f.keyId()
                + "' AND endpoint = '/images/tasks/{id}' AND credits = 0").intValue()).isGreaterThanOrEqualTo(4);
    }

    @Test
    void fewerImagesCostLessAndAFailureCostsNothing() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String fewer = ApiErrors.JSON.readTree(post(gw, "/v1/images/generations", f.key(), asyncBody(4),
                MockHeaders.IMAGES, "1").body()).get("id").asText();
        String failed = ApiErrors.JSON.readTree(post(gw, "/v1/images/generations", f.key(), asyncBody(4),
                MockHeaders.STATUS, "500").body()).get("id").asText();
        String cut = ApiErrors.JSON.readTree(post(gw, "/v1/images/generations", f.key(), asyncBody(4),
                MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_CLOSE_MID_STREAM).body()).get("id").asText();

        assertThat(pollUntil(f.key(), fewer, "succeeded").get("data")).hasSize(1);
        assertThat(pollUntil(f.key(), failed, "failed").at("/error/message").asText()).contains("500");
        pollUntil(f.key(), cut, "failed");

        assertNothingReserved(f);
        assertThat(settlements(f.accountId())).singleElement()
                .satisfies(e -> assertThat(e.amount()).isEqualByComparingTo(Prices.images(IMAGE_PRICING, 1).negate()));
    }

    @Test
    void anImageTaskIsPolledOnlyByItsAccountAndOnlyAsAnImageTask() throws Exception {
        Gateway.Funded owner = gw.fund("10");
        Gateway.Funded stranger = gw.fund("10");
        String id = ApiErrors.JSON.readTree(post(gw, "/v1/images/generations", owner.key(), asyncBody(1)).body())
                .get("id").asText();
        pollUntil(owner.key(), id, "succeeded");
        ApiErrors.assertError(get(gw, "/v1/images/tasks/" + id, stranger.key()), 404, "not_found", "not_found_error");
        ApiErrors.assertError(get(gw, "/v1/videos/tasks/" + id, owner.key()), 404, "not_found", "not_found_error");
        ApiErrors.assertError(post(gw, "/v1/images/tasks/" + id, owner.key(), "{}"), 405, "method_not_allowed",
                "invalid_request_error");
    }

    @Test
    void insufficientCreditsAre402BeforeAnyTaskOrUpstreamCall() throws Exception {
        Gateway.Funded f = gw.fund("0.1");
        gw.mock.reset();
        ApiErrors.assertError(post(gw, "/v1/images/generations", f.key(), asyncBody(3)), 402, "insufficient_credits",
                "insufficient_quota");
        assertThat(gw.mock.headsReceived()).isZero();
        assertThat(gw.queryNumber("SELECT count(*) FROM media_tasks WHERE account_id = '" + f.accountId() + "'")).isZero();
        assertNothingReserved(f);
    }

    @Test
    void imageSubmitsAndPollsHaveTheirOwnRateLimits() throws Exception {
        Gateway.Funded f = gw.fund("10");
        KeyStore.Created k = gw.keys.create(f.accountId(), "limited", null, null, null, new RateLimits(1, 2, 3), 3);
        gw.awaitKnown(k.plaintext());
        String key = k.plaintext();

        String id = null;
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> ok = post(gw, "/v1/images/generations", key, asyncBody(1));
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            assertThat(ok.headers().firstValue("x-ratelimit-limit")).hasValue("2");
            id = ApiErrors.JSON.readTree(ok.body()).get("id").asText();
        }
        HttpResponse<String> third = post(gw, "/v1/images/generations", key, asyncBody(1));
        ApiErrors.assertError(third, 429, "rate_limit_exceeded", "rate_limit_error");
        assertThat(third.headers().firstValue("retry-after")).isPresent();

        for (int i = 0; i < 3; i++) {
            HttpResponse<String> poll = get(gw, "/v1/images/tasks/" + id, key);
            assertThat(poll.statusCode()).isEqualTo(200);
            assertThat(poll.headers().firstValue("x-ratelimit-limit")).hasValue("3");
        }
        ApiErrors.assertError(get(gw, "/v1/images/tasks/" + id, key), 429, "rate_limit_exceeded", "rate_limit_error");

        // The general budget (1) was untouched by all of that: a synchronous image request still passes, once.
        HttpResponse<String> sync = post(gw, "/v1/images/generations", key, MediaModels.imageBody(IMAGE_MODEL, 1));
        assertThat(sync.statusCode()).isEqualTo(200);
        assertThat(sync.headers().firstValue("x-ratelimit-limit")).hasValue("1");
        ApiErrors.assertError(post(gw, "/v1/images/generations", key, MediaModels.imageBody(IMAGE_MODEL, 1)),
                429, "rate_limit_exceeded", "rate_limit_error");
    }
}
