package io.tollgate.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.proxy.billing.Prices;
import io.tollgate.proxy.mock.MockHeaders;
import io.tollgate.proxy.mock.MockProvider;
import io.tollgate.proxy.mock.RawHttp;
import io.tollgate.schema.LedgerEntry;
import io.tollgate.schema.LedgerStore;
import io.tollgate.schema.Pricing;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.util.List;

import static io.tollgate.proxy.MediaModels.IMAGE_MODEL;
import static io.tollgate.proxy.MediaModels.IMAGE_PRICING;
import static io.tollgate.proxy.MediaModels.imageBody;
import static io.tollgate.proxy.MediaModels.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code POST /images/generations}, answered at once: checked, reserved, relayed and billed per image. */
class ImageGenerationsTest {

    static Gateway gw;

    @BeforeAll
    static void start() {
        gw = new Gateway();
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

    private static List<LedgerEntry> settlements(String accountId) {
        return new LedgerStore(gw.db.database().dataSource()).list(accountId, 100).stream()
                .filter(e -> e.kind().equals("settlement")).toList();
    }

    /** Waits for the outcomes, gives the leases back and checks nothing stays reserved. */
    private static void assertSettledAndReleased(Gateway.Funded f) throws Exception {
        gw.awaitSettled();
        gw.proxy.returnLeases();
        assertThat(gw.accounts.find(f.accountId()).orElseThrow().reserved()).isZero();
        assertThat(gw.queryNumber("SELECT credit_reserved FROM api_keys WHERE id = '" + f.keyId() + "'")).isZero();
    }

    private static BigDecimal balance(Gateway.Funded f) {
        return gw.accounts.find(f.accountId()).orElseThrow().balance();
    }

    @Test
    void threeImagesCostThreeTimesTheImagePriceOnce() throws Exception {
        Gateway.Funded f = gw.fund("10");
        HttpResponse<String> r = post(gw, "/v1/images/generations", f.key(), imageBody(IMAGE_MODEL, 3));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode answer = ApiErrors.JSON.readTree(r.body());
        assertThat(answer.get("data")).hasSize(3);
        String requestId = r.headers().firstValue("x-request-id").orElseThrow();
        // The upstream got its own model name, our request id and its own key, never the client's.
        MockProvider.RecordedRequest sent = gw.mock.requests().get(0);
        assertThat(sent.uri()).isEqualTo("/v1/images/generations");
        JsonNode sentBody = ApiErrors.JSON.readTree(sent.bodyUtf8());
        assertThat(sentBody.get("model").asText()).isEqualTo("mock-image");
        assertThat(sentBody.get("n").asInt()).isEqualTo(3);
        assertThat(sent.headers().get("x-request-id")).isEqualTo(requestId);
        assertThat(sent.headers().get("authorization")).isEqualTo("Bearer " + Gateway.UPSTREAM_KEY);

        assertSettledAndReleased(f);
        BigDecimal price = new BigDecimal("0.13");            // 0.01 per request + 3 × 0.04
        assertThat(Prices.images(IMAGE_PRICING, 3)).isEqualByComparingTo(price);
        List<LedgerEntry> paid = settlements(f.accountId());
        assertThat(paid).hasSize(1);
        assertThat(paid.get(0).amount()).isEqualByComparingTo(price.negate());
        assertThat(paid.get(0).requestId()).isEqualTo(requestId);
        assertThat(balance(f)).isEqualByComparingTo(new BigDecimal("10").subtract(price));
        assertThat(gw.queryNumber("SELECT credits FROM request_log WHERE request_id = '" + requestId
                + "' AND endpoint = '/images/generations' AND model = '" + IMAGE_MODEL + "' AND status = 200"))
                .isEqualByComparingTo(price);
    }

    @Test
    void fewerImagesThanAskedCostOnlyThoseReturned() throws Exception {
        Gateway.Funded f = gw.fund("10");
        HttpResponse<String> r = post(gw, "/api/v1/images/generations", f.key(), imageBody(IMAGE_MODEL, 3),
                MockHeaders.IMAGES, "1");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(ApiErrors.JSON.readTree(r.body()).get("data")).hasSize(1);
        assertSettledAndReleased(f);
        assertThat(settlements(f.accountId())).singleElement()
                .satisfies(e -> assertThat(e.amount()).isEqualByComparingTo(Prices.images(IMAGE_PRICING, 1).negate()));
    }

    @Test
    void moreImagesThanAskedAreBilledAsAsked() throws Exception {
        Gateway.Funded f = gw.fund("10");
        HttpResponse<String> r = post(gw, "/v1/images/generations", f.key(), imageBody(IMAGE_MODEL, 2),
                MockHeaders.IMAGES, "5");

        assertThat(ApiErrors.JSON.readTree(r.body()).get("data")).hasSize(5);   // relayed as the upstream sent it
        assertSettledAndReleased(f);
        assertThat(settlements(f.accountId())).singleElement()
                .satisfies(e -> assertThat(e.amount()).isEqualByComparingTo(Prices.images(IMAGE_PRICING, 2).negate()));
    }

    @Test
    void aBigBase64AnswerStreamsThroughWhole() throws Exception {
        Gateway.Funded f = gw.fund("10");
        HttpResponse<String> r = post(gw, "/v1/images/generations", f.key(),
                "{\"model\":\"" + IMAGE_MODEL + "\",\"prompt\":\"x\",\"n\":2,\"response_format\":\"b64_json\"}",
                MockHeaders.IMAGE_BYTES, Integer.toString(3 * 1024 * 1024));

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode data = ApiErrors.JSON.readTree(r.body()).get("data");
        assertThat(data).hasSize(2);
        assertThat(data.get(1).get("b64_json").asText()).hasSize(3 * 1024 * 1024);
        assertSettledAndReleased(f);
        assertThat(settlements(f.accountId())).singleElement()
                .satisfies(e -> assertThat(e.amount()).isEqualByComparingTo(Prices.images(IMAGE_PRICING, 2).negate()));
    }

    @Test
    void anUpstreamFailureCostsNothingAndReleasesOnce() throws Exception {
        Gateway.Funded f = gw.fund("10");
        HttpResponse<String> r = post(gw, "/v1/images/generations", f.key(), imageBody(IMAGE_MODEL, 3),
                MockHeaders.STATUS, "500");
        ApiErrors.assertError(r, 502, "upstream_error", "api_error");
        HttpResponse<String> refused = post(gw, "/v1/images/generations", f.key(), imageBody(IMAGE_MODEL, 3),
                MockHeaders.STATUS, "400");
        assertThat(refused.statusCode()).isEqualTo(400);          // the client's own doing: passed through
        HttpResponse<String> closed = post(gw, "/v1/images/generations", f.key(), imageBody(IMAGE_MODEL, 3),
                MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_CLOSE_BEFORE_HEAD);
        ApiErrors.assertError(closed, 502, "upstream_error", "api_error");

        assertSettledAndReleased(f);
        assertThat(settlements(f.accountId())).isEmpty();
        assertThat(balance(f)).isEqualByComparingTo("10");
        assertThat(gw.queryNumber("SELECT count(*) FROM request_log WHERE key_id = '" + f.keyId()
                + "' AND endpoint = '/images/generations' AND credits = 0 AND status IN (400, 502)").intValue()).isEqualTo(3);
    }

    @Test
    void anAnswerCutMidWayCostsAtMostWhatWasAskedAndIsSettledOnce() throws Exception {
        Gateway.Funded f = gw.fund("10");
        assertThatThrownBy(() -> post(gw, "/v1/images/generations", f.key(), imageBody(IMAGE_MODEL, 3),
                MockHeaders.BEHAVIOR, MockHeaders.BEHAVIOR_CLOSE_MID_STREAM)).isInstanceOf(IOException.class);

        assertSettledAndReleased(f);
        List<LedgerEntry> paid = settlements(f.accountId());
        assertThat(paid.size()).isLessThanOrEqualTo(1);
        BigDecimal charged = paid.stream().map(e -> e.amount().negate()).reduce(BigDecimal.ZERO, BigDecimal::add);
        // Half of the answer holds at most one of the three images whole.
        assertThat(charged).isLessThanOrEqualTo(Prices.images(IMAGE_PRICING, 1));
        assertThat(balance(f)).isEqualByComparingTo(new BigDecimal("10").subtract(charged));
    }

    @Test
    void insufficientCreditsAre402BeforeAnyUpstreamCall() throws Exception {
        Gateway.Funded f = gw.fund("0.1");                     // 3 images cost 0.13
        HttpResponse<String> r = post(gw, "/v1/images/generations", f.key(), imageBody(IMAGE_MODEL, 3));

        ApiErrors.assertError(r, 402, "insufficient_credits", "insufficient_quota");
        assertThat(gw.mock.headsReceived()).isZero();
        HttpResponse<String> two = post(gw, "/v1/images/generations", f.key(), imageBody(IMAGE_MODEL, 2));
        assertThat(two.statusCode()).isEqualTo(200);              // 0.09 fits
        assertSettledAndReleased(f);
        assertThat(balance(f)).isEqualByComparingTo("0.01");
    }

    @Test
    void requestsAreCheckedBeforeAnythingIsReserved() throws Exception {
        Gateway.Funded f = gw.fund("10");
        ApiErrors.assertError(post(gw, "/v1/images/generations", f.key(), "{\"prompt\":\"x\"}"),
                400, "model_required", "invalid_request_error");
        ApiErrors.assertError(post(gw, "/v1/images/generations", f.key(), "{\"model\":\"" + IMAGE_MODEL + "\"}"),
                400, "prompt_required", "invalid_request_error");
        ApiErrors.assertError(post(gw, "/v1/images/generations", f.key(), "{\"model\":"),
                400, "invalid_request", "invalid_request_error");
        ApiErrors.assertError(post(gw, "/v1/images/generations", f.key(), imageBody(Gateway.MODEL, 1)),
                400, "invalid_request", "invalid_request_error");      // a chat model
        ApiErrors.assertError(post(gw, "/v1/images/generations", f.key(), imageBody("no-such-model", 1)),
                404, "model_not_available", "not_found_error");
        ApiErrors.assertError(post(gw, "/v1/images/generations", "sk-tg-wrong", imageBody(IMAGE_MODEL, 1)),
                401, "invalid_api_key", "authentication_error");
        String chatOnly = gw.key(f.accountId(), List.of(Gateway.MODEL), null);
        ApiErrors.assertError(post(gw, "/v1/images/generations", chatOnly, imageBody(IMAGE_MODEL, 1)),
                403, "api_key_model_not_allowed", "permission_error");
        ApiErrors.assertError(MediaModels.get(gw, "/v1/images/generations", f.key()),
                405, "method_not_allowed", "invalid_request_error");

        assertThat(gw.mock.headsReceived()).isZero();
        assertSettledAndReleased(f);
        assertThat(settlements(f.accountId())).isEmpty();
        // One row each; the 401 and the 405 (refused before the key is looked at) belong to no account.
        assertThat(gw.queryNumber("SELECT count(*) FROM request_log WHERE account_id = '" + f.accountId()
                + "' AND endpoint = '/images/generations'").intValue()).isEqualTo(6);
    }

    @Test
    void aFreeModelCostsNothingAndWritesNoLedgerEntry() throws Exception {
        MediaModels.put(gw, "free-image", "image", "mock-image", Pricing.FREE, null);
        gw.awaitModels("free-image");
        Gateway.Funded f = gw.fund("1");
        assertThat(post(gw, "/v1/images/generations", f.key(), imageBody("free-image", 2)).statusCode()).isEqualTo(200);
        assertSettledAndReleased(f);
        assertThat(settlements(f.accountId())).isEmpty();
    }

    @Test
    void imageAndChatRequestsShareAKeepAliveConnectionInOrder() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String image = imageBody(IMAGE_MODEL, 2);
        String imageRequest = "POST /v1/images/generations HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                + "Authorization: Bearer " + f.key() + "\r\nContent-Length: " + image.length() + "\r\n\r\n" + image;
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            // Pipelined: chat, image, chat, image, all written before any answer is read.
            s.write(RawSocket.chat(f.key(), Gateway.chatBody(Gateway.MODEL, false)) + imageRequest
                    + RawSocket.chat(f.key(), Gateway.chatBody(Gateway.MODEL, false)) + imageRequest);
            for (int i = 0; i < 4; i++) {
                RawHttp.Response r = s.readResponse();
                assertThat(r.status()).as(r.bodyUtf8()).isEqualTo(200);
                JsonNode body = ApiErrors.JSON.readTree(r.bodyUtf8());
                assertThat(body.has(i % 2 == 0 ? "choices" : "data")).as("answer %d in order: %s", i, r.bodyUtf8()).isTrue();
            }
        }
        assertSettledAndReleased(f);
        assertThat(settlements(f.accountId())).hasSize(4);
    }
}
