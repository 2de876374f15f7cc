package io.tollgate.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.proxy.media.MediaConfig;
import io.tollgate.proxy.mock.MockHeaders;
import io.tollgate.schema.LedgerEntry;
import io.tollgate.schema.LedgerStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.tollgate.proxy.MediaModels.VIDEO_MODEL;
import static io.tollgate.proxy.MediaModels.get;
import static io.tollgate.proxy.MediaModels.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Video tasks: submitted, polled through queued and running to their end, and settled exactly
 * once at {@code per_second × duration}, whoever polls and however often.
 */
class VideoTasksTest {

    /** Every poll asks the upstream; no sweeping: these tests drive tasks by polling. */
    static final MediaConfig MEDIA = MediaConfig.defaults()
            .withVideoSeconds(new BigDecimal("6"), new BigDecimal("60"))
            .withPolling(Duration.ZERO, Duration.ofHours(1));

    static Gateway gw;

    @BeforeAll
    static void start() {
        gw = new Gateway(Gateway.config(), Gateway.roomyLimits(), MEDIA);
        MediaModels.put(gw);
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @BeforeEach
    void resetMock() {
        gw.mock.reset();
    }

    static String videoBody(String extra) {
        return "{\"model\":\"" + VIDEO_MODEL + "\",\"prompt\":\"waves on a beach\"" + extra + "}";
    }

    /** Submits a video that is queued and running for these many ms each; returns the task. */
    static JsonNode submit(String key, String extra, long queuedMs, long runningMs, String... headers) throws Exception {
        List<String> h = new ArrayList<>(List.of(MockHeaders.TASK_QUEUED_MS, Long.toString(queuedMs),
                MockHeaders.TASK_RUNNING_MS, Long.toString(runningMs)));
        h.addAll(List.of(headers));
        HttpResponse<String> r = post(gw, "/v1/videos/generations", key, videoBody(extra), h.toArray(String[]::new));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ApiErrors.JSON.readTree(r.body());
    }

    static JsonNode poll(String key, String id) throws Exception {
        HttpResponse<String> r = get(gw, "/v1/videos/tasks/" + id, key);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ApiErrors.JSON.readTree(r.body());
    }

    static JsonNode pollUntil(String key, String id, String status) {
        JsonNode[] last = new JsonNode[1];
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(25)).until(() -> {
            last[0] = poll(key, id);
            return last[0].get("status").asText().equals(status);
        });
        return last[0];
    }

    static List<LedgerEntry> settlements(String accountId) {
        return new LedgerStore(gw.db.database().dataSource()).list(accountId, 100).stream()
                .filter(e -> e.kind().equals("settlement")).toList();
    }

    static BigDecimal balance(Gateway.Funded f) {
        return gw.accounts.find(f.accountId()).orElseThrow().balance();
    }

    /** Nothing is held any more: not by a task, not by a lease. */
    static void assertNothingReserved(Gateway.Funded f) throws Exception {
        gw.awaitSettled();
        gw.proxy.returnLeases();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isZero();
        assertThat(gw.queryNumber("SELECT credit_reserved FROM api_keys WHERE id = '" + f.keyId() + "'")).isZero();
    }

    @Test
    void aTaskGoesFromQueuedThroughRunningToSucceededAndIsChargedOnce() throws Exception {
        Gateway.Funded f = gw.fund("10");
        HttpResponse<String> submitted = post(gw, "/v1/videos/generations", f.key(), videoBody(",\"duration\":8"),
                MockHeaders.TASK_QUEUED_MS, "400", MockHeaders.TASK_RUNNING_MS, "400");
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(200);
        JsonNode task = ApiErrors.JSON.readTree(submitted.body());
        String submitId = submitted.headers().firstValue("x-request-id").orElseThrow();
        assertThat(task.get("object").asText()).isEqualTo("video.generation.task");
        assertThat(task.get("status").asText()).isEqualTo("queued");
        assertThat(task.get("model").asText()).isEqualTo(VIDEO_MODEL);
        String id = task.get("id").asText();
        // While it runs, its reservation (0.5 × 8) is held by the task, not charged.
        assertThat(gw.queryNumber("SELECT reserved FROM media_tasks WHERE id = '" + id + "'")).isEqualByComparingTo("4");
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isGreaterThanOrEqualTo(new BigDecimal("4"));

        JsonNode running = pollUntil(f.key(), id, "running");
        assertThat(running.has("video_url")).isFalse();
        JsonNode done = pollUntil(f.key(), id, "succeeded");
        assertThat(done.get("id").asText()).isEqualTo(id);
        assertThat(done.get("created_at").isIntegralNumber()).isTrue();
        assertThat(done.get("video_url").asText()).endsWith(".mp4");
        assertThat(done.at("/data/0/video_url").asText()).isEqualTo(done.get("video_url").asText());
        for (int i = 0; i < 5; i++) {
            assertThat(poll(f.key(), id).get("status").asText()).isEqualTo("succeeded");   // polled again and again
        }
        // The aliases find the same task.
        for (String path : List.of("/v1/videos/generations/", "/v1/video/generations/", "/api/v1/videos/tasks/")) {
            HttpResponse<String> alias = get(gw, path + id, f.key());
            assertThat(alias.statusCode()).as(path).isEqualTo(200);
            assertThat(ApiErrors.JSON.readTree(alias.body()).get("status").asText()).isEqualTo("succeeded");
        }

        assertNothingReserved(f);
        List<LedgerEntry> paid = settlements(f.accountId());
        assertThat(paid).singleElement().satisfies(e -> {
            assertThat(e.amount()).isEqualByComparingTo("-4");
            assertThat(e.requestId()).isEqualTo(submitId);
        });
        assertThat(balance(f)).isEqualByComparingTo("6");
        assertThat(gw.queryNumber("SELECT credit_used FROM api_keys WHERE id = '" + f.keyId() + "'")).isEqualByComparingTo("4");
        // The submit's log row carries the credits; the polls' rows carry none.
        assertThat(gw.queryNumber("SELECT credits FROM request_log WHERE request_id = '" + submitId
                + "' AND endpoint = '/videos/generations' AND status = 200")).isEqualByComparingTo("4");
        assertThat(gw.queryNumber("SELECT count(*) FROM request_log WHERE key_id = '" + f.keyId()
                + "' AND endpoint LIKE '%{id}' AND credits = 0 AND model = '" + VIDEO_MODEL + "'").intValue()).isGreaterThan(5);
    }

    @Test
    void theDurationTheUpstreamReportsIsBilledUpToTheReservedOne() throws Exception {
        Gateway.Funded f = gw.fund("100");
        String shorter = submit(f.key(), ",\"duration\":8", 0, 0, MockHeaders.VIDEO_SECONDS, "2.5").get("id").asText();
        String longer = submit(f.key(), ",\"seconds\":\"4\"", 0, 0, MockHeaders.VIDEO_SECONDS, "20").get("id").asText();
        assertThat(pollUntil(f.key(), shorter, "succeeded").get("seconds").decimalValue()).isEqualByComparingTo("2.5");
        assertThat(pollUntil(f.key(), longer, "succeeded").get("seconds").decimalValue()).isEqualByComparingTo("4");

        assertNothingReserved(f);
        assertThat(settlements(f.accountId())).extracting(e -> e.amount().negate())
                .usingComparatorForType(BigDecimal::compareTo, BigDecimal.class)
                .containsExactlyInAnyOrder(new BigDecimal("1.25"), new BigDecimal("2"));
    }

    @Test
    void withoutADurationTheConfiguredDefaultIsReserved() throws Exception {
        Gateway.Funded f = gw.fund("100");
        String id = submit(f.key(), "", 0, 0).get("id").asText();
        assertThat(gw.queryNumber("SELECT reserved FROM media_tasks WHERE id = '" + id + "'")).isEqualByComparingTo("3");
        pollUntil(f.key(), id, "succeeded");                  // the mock's own default is 5 s: billed 5 × 0.5
        assertNothingReserved(f);
        assertThat(settlements(f.accountId())).singleElement()
                .satisfies(e -> assertThat(e.amount()).isEqualByComparingTo("-2.5"));
    }

    @Test
    void aFailedTaskCostsNothing() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String id = submit(f.key(), ",\"duration\":8", 100, 100, MockHeaders.TASK_OUTCOME, "failed").get("id").asText();
        JsonNode failed = pollUntil(f.key(), id, "failed");
        assertThat(failed.at("/error/message").asText()).isNotBlank();
        assertThat(failed.has("video_url")).isFalse();
        poll(f.key(), id);

        assertNothingReserved(f);
        assertThat(settlements(f.accountId())).isEmpty();
        assertThat(balance(f)).isEqualByComparingTo("10");
        assertThat(gw.queryNumber("SELECT cost FROM media_tasks WHERE id = '" + id + "'")).isZero();
    }

    @Test
    void aThirdConcurrentTaskIs429UntilOneFinishes() throws Exception {
        Gateway.Funded f = gw.fund("100");
        String first = submit(f.key(), "", 0, 600_000).get("id").asText();
        String second = submit(f.key(), "", 0, 200).get("id").asText();
        HttpResponse<String> third = post(gw, "/v1/videos/generations", f.key(), videoBody(""));
        ApiErrors.assertError(third, 429, "too_many_video_tasks", "rate_limit_error");
        assertThat(third.headers().firstValue("retry-after")).isPresent();
        // Another key of the same account shares the account's limit.
        String other = gw.key(f.accountId(), null, null);
        ApiErrors.assertError(post(gw, "/v1/video/generations", other, videoBody("")), 429, "too_many_video_tasks",
                "rate_limit_error");
        assertThat(gw.mock.requests().stream().filter(r -> r.method().equals("POST")).count()).isEqualTo(2);

        pollUntil(f.key(), second, "succeeded");
        String fourth = submit(f.key(), "", 0, 0).get("id").asText();
        pollUntil(f.key(), fourth, "succeeded");
        assertThat(poll(f.key(), first).get("status").asText()).isEqualTo("running");
        // The refusals cost nothing: only the two finished tasks are charged.
        gw.awaitSettled();
        assertThat(settlements(f.accountId())).hasSize(2);
    }

    @Test
    void aTaskIsPolledOnlyByItsOwnAccount() throws Exception {
        Gateway.Funded owner = gw.fund("10");
        Gateway.Funded stranger = gw.fund("10");
        String id = submit(owner.key(), "", 0, 0).get("id").asText();

        ApiErrors.assertError(get(gw, "/v1/videos/tasks/" + id, stranger.key()), 404, "not_found", "not_found_error");
        ApiErrors.assertError(get(gw, "/v1/videos/tasks/task_nope", owner.key()), 404, "not_found", "not_found_error");
        ApiErrors.assertError(get(gw, "/v1/images/tasks/" + id, owner.key()), 404, "not_found", "not_found_error");
        ApiErrors.assertError(get(gw, "/v1/videos/tasks/" + id, null), 401, "invalid_api_key", "authentication_error");
        // A second key of the owner's account may poll it.
        String second = gw.key(owner.accountId(), null, null);
        assertThat(pollUntil(second, id, "succeeded").get("id").asText()).isEqualTo(id);
        // The stranger's polls neither asked the upstream nor settled anything.
        assertThat(settlements(stranger.accountId())).isEmpty();
    }

    @Test
    void anUnsupportedResolutionIs400BeforeAnythingIsReserved() throws Exception {
        Gateway.Funded f = gw.fund("10");
        ApiErrors.assertError(post(gw, "/v1/videos/generations", f.key(), videoBody(",\"resolution\":\"4k\"")),
                400, "unsupported_video_resolution", "invalid_request_error");
        ApiErrors.assertError(post(gw, "/v1/videos/generations", f.key(), videoBody(",\"size\":\"640x480\"")),
                400, "unsupported_video_resolution", "invalid_request_error");
        assertThat(gw.mock.headsReceived()).isZero();
        submit(f.key(), ",\"resolution\":\"1080p\",\"size\":\"1280x720\"", 0, 0);
        assertThat(gw.queryNumber("SELECT count(*) FROM media_tasks WHERE account_id = '" + f.accountId() + "'").intValue())
                .isEqualTo(1);
    }

    @Test
    void requestsAreCheckedBeforeAnyUpstreamCall() throws Exception {
        Gateway.Funded poor = gw.fund("2");                   // 8 s cost 4
        ApiErrors.assertError(post(gw, "/v1/videos/generations", poor.key(), videoBody(",\"duration\":8")),
                402, "insufficient_credits", "insufficient_quota");
        ApiErrors.assertError(post(gw, "/v1/videos/generations", poor.key(), "{\"model\":\"" + VIDEO_MODEL + "\"}"),
                400, "prompt_required", "invalid_request_error");
        ApiErrors.assertError(post(gw, "/v1/videos/generations", poor.key(), videoBody(",\"duration\":9999")),
                400, "invalid_request", "invalid_request_error");
        ApiErrors.assertError(post(gw, "/v1/videos/generations", poor.key(),
                "{\"model\":\"" + MediaModels.IMAGE_MODEL + "\",\"prompt\":\"x\"}"), 400, "invalid_request", "invalid_request_error");
        ApiErrors.assertError(get(gw, "/v1/videos/generations", poor.key()), 405, "method_not_allowed", "invalid_request_error");
        assertThat(gw.mock.headsReceived()).isZero();
        assertNothingReserved(poor);
        assertThat(gw.queryNumber("SELECT count(*) FROM media_tasks WHERE account_id = '" + poor.accountId() + "'")).isZero();
    }

    @Test
    void anUpstreamRefusingTheSubmitCostsNothingAndTakesNoSlot() throws Exception {
        Gateway.Funded f = gw.fund("10");
        HttpResponse<String> broken = post(gw, "/v1/videos/generations", f.key(), videoBody(""), MockHeaders.STATUS, "500");
        ApiErrors.assertError(broken, 502, "upstream_error", "api_error");
        HttpResponse<String> refused = post(gw, "/v1/videos/generations", f.key(), videoBody(""), MockHeaders.STATUS, "422");
        assertThat(refused.statusCode()).isEqualTo(422);      // the client's doing: passed through
        HttpResponse<String> closed = post(gw, "/v1/videos/generations", f.key(), videoBody(""),
                MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_CLOSE_BEFORE_HEAD);
        ApiErrors.assertError(closed, 502, "upstream_error", "api_error");

        assertNothingReserved(f);
        assertThat(gw.queryNumber("SELECT count(*) FROM media_tasks WHERE account_id = '" + f.accountId()
                + "' AND status = 'failed' AND cost = 0").intValue()).isEqualTo(3);
        // None of them holds one of the account's two slots.
        submit(f.key(), "", 0, 0);
        submit(f.key(), "", 0, 0);
        assertThat(settlements(f.accountId())).isEmpty();
        assertThat(gw.queryNumber("SELECT count(*) FROM request_log WHERE key_id = '" + f.keyId()
                + "' AND endpoint = '/videos/generations'").intValue()).isEqualTo(5);
    }

    @Test
    void twoProxiesPollingOneTaskSettleItOnce() throws Exception {
        try (ProxyServer second = ProxyServer.start(Gateway.config(), Gateway.roomyLimits(), MEDIA, gw.db.database())) {
            Gateway.Funded f = gw.fund("10");
            await().atMost(Duration.ofSeconds(5)).until(() -> second.catalog().keyByHash(
                    io.tollgate.schema.ApiKeySecrets.hash(f.key())) != null
                    && second.catalog().routing().models().containsKey(VIDEO_MODEL));
            String id = submit(f.key(), ",\"duration\":8", 0, 300).get("id").asText();
            ExecutorService pollers = Executors.newFixedThreadPool(6);
            try {
                List<Callable<Void>> work = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    int port = i % 2 == 0 ? gw.proxy.port() : second.port();
                    work.add(() -> {
                        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> {
                            HttpResponse<String> r = gw.http.send(java.net.http.HttpRequest.newBuilder(
                                            java.net.URI.create("http://127.0.0.1:" + port + "/v1/videos/tasks/" + id))
                                    .header("authorization", "Bearer " + f.key()).GET().build(),
                                    HttpResponse.BodyHandlers.ofString());
                            return ApiErrors.JSON.readTree(r.body()).get("status").asText().equals("succeeded");
                        });
                        return null;
                    });
                }
                for (Future<Void> done : pollers.invokeAll(work)) {
                    done.get();
                }
            } finally {
                pollers.shutdownNow();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> second.pendingOutcomes() == 0);
            second.returnLeases();
            assertNothingReserved(f);
            assertThat(settlements(f.accountId())).singleElement()
                    .satisfies(e -> assertThat(e.amount()).isEqualByComparingTo("-4"));
            assertThat(balance(f)).isEqualByComparingTo("6");
        }
    }
}
