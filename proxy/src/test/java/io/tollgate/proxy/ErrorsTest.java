package io.tollgate.proxy;

import io.tollgate.proxy.mock.RawHttp;
import io.tollgate.proxy.mock.MockHeaders;
import io.tollgate.proxy.mock.NoLeaksExtension;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.ApiKeySecrets;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.RateLimits;
import io.tollgate.schema.Upstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.tollgate.proxy.ApiErrors.assertError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * One test per error of SPEC section 2, over real sockets: status, code, type, the body's shape,
 * X-Request-Id, and for the checks that must come first, that the upstream heard nothing.
 */
@ExtendWith(NoLeaksExtension.class)
class ErrorsTest {

    private static final String INVALID_REQUEST = "invalid_request_error";
    private static final String NOT_FOUND = "not_found_error";
    private static final String PERMISSION = "permission_error";
    private static final String API_ERROR = "api_error";
    private static final int OVER_LIMIT = 600 * 1024;

    static Gateway gw;
    /** Timeouts short enough to wait for: 300 ms to the upstream's first byte and for a request head. */
    static Gateway tight;
    static Gateway.Funded acct;

    @BeforeAll
    static void start() throws IOException {
        gw = new Gateway();
        acct = gw.fund("100");
        Upstream dead = gw.upstreams.create("dead", "openai", "http://127.0.0.1:" + closedPort() + "/v1",
                "sk-dead", 1, 0, true);
        Upstream off = gw.upstreams.create("off", "openai", "http://127.0.0.1:" + gw.mock.port() + "/v1",
                Gateway.UPSTREAM_KEY, 1, 0, false);
        gw.putModel("dead-chat", dead, "mock-model", true, true);
        gw.putModel("orphan-chat", off, "mock-model", true, true);
        gw.putModel("disabled-chat", gw.upstream, "mock-model", false, true);
        gw.putModel("private-chat", gw.upstream, "mock-model", true, false);
        gw.putModel("other-chat", gw.upstream, "mock-model", true, true);
        gw.awaitModels("dead-chat", "orphan-chat", "disabled-chat", "private-chat", "other-chat");

        tight = new Gateway(Gateway.config()
                .withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(1))
                .withRequestHeadTimeout(Duration.ofMillis(300)));
    }

    @AfterAll
    static void stop() {
        if (tight != null) {
            tight.close();
        }
        gw.close();
    }

    @BeforeEach
    void resetMock() {
        gw.mock.reset();
        tight.mock.reset();
    }

    /** A port that was free a moment ago and has no listener now. */
    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String chatBody() {
        return Gateway.chatBody(Gateway.MODEL, false);
    }

    // ---------------------------------------------------------------- 401

    @Test
    void missingKeyIs401BeforeAnyUpstreamByte() throws Exception {
        HttpResponse<String> r = gw.chat(null, chatBody());

        assertError(r, 401, "invalid_api_key", "authentication_error");
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @Test
    void unknownKeyIs401() throws Exception {
        HttpResponse<String> r = gw.chat("sk-tg-" + "0".repeat(40), chatBody());

        assertError(r, 401, "invalid_api_key", "authentication_error");
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @Test
    void revokedKeyIs401() throws Exception {
        Gateway.Funded f = gw.fund("10");
        assertThat(gw.chat(f.key(), chatBody()).statusCode()).isEqualTo(200);
        gw.mock.reset();

        gw.keys.revoke(f.keyId());
        await().atMost(Duration.ofSeconds(5)).until(() ->
                gw.proxy.catalog().keyByHash(ApiKeySecrets.hash(f.key())) == null);
        HttpResponse<String> r = gw.chat(f.key(), chatBody());

        assertError(r, 401, "invalid_api_key", "authentication_error");
        assertThat(gw.mock.headsReceived()).isZero();
    }

    // ---------------------------------------------------------------- 403

    @Test
    void pausedKeyIs403() throws Exception {
        Gateway.Funded f = gw.fund("10");
        gw.keys.update(f.keyId(), new KeyStore.Patch(null, ApiKey.PAUSED, null, false, null, false, null, false, null));
        await().atMost(Duration.ofSeconds(5)).until(() -> ApiKey.PAUSED.equals(
                gw.proxy.catalog().keyByHash(ApiKeySecrets.hash(f.key())).status()));

        HttpResponse<String> r = gw.chat(f.key(), chatBody());

        assertError(r, 403, "api_key_paused", PERMISSION);
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @Test
    void expiredKeyIs403() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String expired = gw.key(f.accountId(), null, Instant.now().minusSeconds(60));

        HttpResponse<String> r = gw.chat(expired, chatBody());

        assertError(r, 403, "api_key_expired", PERMISSION);
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @Test
    void modelOutsideTheKeysAllowlistIs403() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String onlyOther = gw.key(f.accountId(), List.of("other-chat"), null);

        HttpResponse<String> r = gw.chat(onlyOther, chatBody());

        assertError(r, 403, "api_key_model_not_allowed", PERMISSION);
        assertThat(gw.mock.headsReceived()).isZero();
        // The same key may call the model it lists.
        assertThat(gw.chat(onlyOther, Gateway.chatBody("other-chat", false)).statusCode()).isEqualTo(200);
    }

    @Test
    void aModelOfAnotherCategoryIs400OnChat() throws Exception {
        MediaModels.put(gw);

        HttpResponse<String> r = gw.chat(acct.key(), Gateway.chatBody(MediaModels.IMAGE_MODEL, false));

        assertError(r, 400, "invalid_request", INVALID_REQUEST);
        assertThat(r.body()).contains("is in the image category; this endpoint serves text models");
        assertThat(gw.mock.headsReceived()).isZero();
    }

    // ---------------------------------------------------------------- 404

    @ParameterizedTest
    @ValueSource(strings = {"no-such-model", "disabled-chat", "private-chat"})
    void unknownDisabledOrPrivateModelIs404(String model) throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), Gateway.chatBody(model, false));

        assertError(r, 404, "model_not_available", NOT_FOUND);
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/nothing-here", "/v2/chat/completions", "/chat/completions", "/v1/chat/completions/x"})
    void unknownPathIs404(String path) throws Exception {
        HttpResponse<String> r = gw.http.send(HttpRequest.newBuilder(gw.uri(path))
                .header("authorization", "Bearer " + acct.key())
                .POST(HttpRequest.BodyPublishers.ofString(chatBody())).build(), HttpResponse.BodyHandlers.ofString());

        assertError(r, 404, "not_found", NOT_FOUND);
        assertThat(gw.mock.headsReceived()).isZero();
    }

    // ---------------------------------------------------------------- 400

    @ParameterizedTest
    @ValueSource(strings = {
            "this is not json",
            "{\"model\":\"test-chat\",\"messages\":[",
            "[{\"model\":\"test-chat\"}]",
            "{\"model\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "{\"model\":\"test-chat\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "{\"model\":\"test-chat\",\"messages\":\"hi\"}",
            "{\"model\":\"test-chat\",\"max_tokens\":\"5\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            "{\"model\":\"test-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]} {}",
            ""})
    void malformedBodyIs400InvalidRequest(String body) throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), body);

        assertError(r, 400, "invalid_request", INVALID_REQUEST);
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @Test
    void missingModelIs400ModelRequired() throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertError(r, 400, "model_required", INVALID_REQUEST);
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @Test
    void missingMessagesIs400MessagesRequired() throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), "{\"model\":\"test-chat\",\"max_tokens\":5}");

        assertError(r, 400, "messages_required", INVALID_REQUEST);
        assertThat(gw.mock.requests()).isEmpty();
    }

    // ---------------------------------------------------------------- 402

    @Test
    void emptyBalanceIs402BeforeAnyUpstreamByte() throws Exception {
        Gateway.Funded broke = gw.fund("0");

        HttpResponse<String> r = gw.chat(broke.key(), chatBody());

        assertError(r, 402, "insufficient_credits", "insufficient_quota");
        // Credits are reserved before the upstream is even connected.
        assertThat(gw.mock.headsReceived()).isZero();
        gw.awaitSettled();
        assertThat(gw.queryNumber("SELECT count(*) FROM credit_leases WHERE account_id = '" + broke.accountId() + "'")).isZero();
        assertThat(gw.accounts.find(broke.accountId()).orElseThrow().reserved()).isZero();
    }

    @Test
    void keyCreditLimitUsedUpIs402() throws Exception {
        Gateway.Funded f = gw.fund("10");
        KeyStore.Created capped = gw.keys.create(f.accountId(), "capped", null, new BigDecimal("0.0001"),
                null, RateLimits.NONE, 3);
        gw.awaitKnown(capped.plaintext());

        HttpResponse<String> r = gw.chat(capped.plaintext(), chatBody());

        assertError(r, 402, "api_key_credit_limit_exceeded", "insufficient_quota");
        assertThat(gw.mock.headsReceived()).isZero();
        // The account could have paid: only the key's own limit refused it.
        assertThat(gw.chat(f.key(), chatBody()).statusCode()).isEqualTo(200);
    }

    // ---------------------------------------------------------------- 5xx

    @Test
    void modelWhoseOnlyUpstreamIsDisabledIs503() throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), Gateway.chatBody("orphan-chat", false));

        assertError(r, 503, "provider_not_configured", API_ERROR);
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @Test
    void unreachableUpstreamIs502() throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), Gateway.chatBody("dead-chat", false));

        assertError(r, 502, "upstream_error", API_ERROR);
    }

    @Test
    void upstreamServerErrorIs502AndNotPassedThrough() throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), chatBody(), MockHeaders.STATUS, "500");

        assertError(r, 502, "upstream_error", API_ERROR);
        assertThat(gw.mock.requests()).hasSize(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {MockHeaders.BEHAVIOR_GARBAGE, MockHeaders.BEHAVIOR_CLOSE_BEFORE_HEAD})
    void brokenUpstreamAnswerIs502(String behavior) throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), chatBody(), MockHeaders.BEHAVIOR, behavior);

        assertError(r, 502, "upstream_error", API_ERROR);
        assertThat(gw.mock.requests()).hasSize(1);
    }

    @Test
    void slowUpstreamIs504OnTheFirstByteTimeout() throws Exception {
        Gateway.Funded f = tight.fund("10");
        long start = System.nanoTime();

        HttpResponse<String> r = tight.chat(f.key(), chatBody(), MockHeaders.FIRST_BYTE_DELAY_MS, "2000");

        assertError(r, 504, "upstream_timeout", API_ERROR);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
        assertThat(tight.mock.requests()).hasSize(1);
    }

    @Test
    void aSlowAnswerWithinItsTimeoutIsNotCutByTheTimerOfTheRequestBeforeIt() throws Exception {
        Gateway.Funded f = tight.fund("10");
        try (RawSocket s = new RawSocket(tight.proxy.port())) {
            // One connection: the second and third requests start 50 and 300 ms into the first's
            // 300 ms first-byte window, and each waits 250 ms for its head, past the first's window.
            s.write(RawSocket.chat(f.key(), chatBody()));
            assertThat(s.readResponse().status()).isEqualTo(200);
            for (int i = 0; i < 2; i++) {
                s.write(RawSocket.chat(f.key(), chatBody(), MockHeaders.FIRST_BYTE_DELAY_MS + ": 250"));
                assertThat(s.readResponse().status()).isEqualTo(200);
            }
            s.write(RawSocket.chat(f.key(), chatBody(), MockHeaders.FIRST_BYTE_DELAY_MS + ": 2000"));
            assertError(s.readResponse(), 504, "upstream_timeout", API_ERROR);
        }
        assertThat(tight.mock.requests()).hasSize(4);
    }

    @Test
    void anUpstreamSilentMidStreamForTheIdleTimeoutIsCut() throws Exception {
        Gateway.Funded f = tight.fund("10");
        long start = System.nanoTime();

        // Three chunks 3 s apart would take 6 s; the idle timeout is 1 s.
        assertThatThrownBy(() -> tight.chat(f.key(), Gateway.chatBody(Gateway.MODEL, true),
                MockHeaders.TOKENS, "3", MockHeaders.CHUNK_DELAY_MS, "3000")).isInstanceOf(IOException.class);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(900), Duration.ofMillis(2900));
        assertThat(tight.mock.requests()).hasSize(1);
    }

    // ---------------------------------------------------------------- 413, 431, 408, framing

    @Test
    void announcedBodyOverTheLimitIs413BeforeTheBodyIsSent() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + acct.key() + "\r\nContent-Length: " + OVER_LIMIT + "\r\n\r\n");

            RawHttp.Response r = s.readResponse();

            assertError(r, 413, "request_too_large", INVALID_REQUEST);
            assertThat(s.closedByPeer()).isTrue();
        }
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anOrdinaryClientSendingTooMuchReadsThe413(boolean chunked) throws Exception {
        byte[] body = Gateway.bigChatBody(OVER_LIMIT);
        HttpRequest.BodyPublisher publisher = chunked
                ? HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))
                : HttpRequest.BodyPublishers.ofByteArray(body);
        HttpResponse<String> r = gw.http.send(HttpRequest.newBuilder(gw.uri("/v1/chat/completions"))
                .header("authorization", "Bearer " + acct.key())
                .POST(publisher).build(), HttpResponse.BodyHandlers.ofString());

        assertError(r, 413, "request_too_large", INVALID_REQUEST);
        assertThat(gw.mock.requests()).isEmpty();
    }

    @Test
    void chunkedBodyOverTheLimitIs413AndTheUpstreamNeverSeesItWhole() throws Exception {
        byte[] body = Gateway.bigChatBody(OVER_LIMIT);
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + acct.key() + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            // The gateway may close while we still write: that is the point, so writing stops quietly.
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try {
                    for (int off = 0; off < body.length; off += 8192) {
                        s.writeChunk(java.util.Arrays.copyOfRange(body, off, Math.min(body.length, off + 8192)));
                    }
                    s.writeChunk(new byte[0]);
                } catch (IOException closed) {
                    // refused mid-body
                }
            });

            RawHttp.Response r = s.readResponse();

            assertError(r, 413, "request_too_large", INVALID_REQUEST);
            assertThat(s.closedByPeer()).isTrue();
            sender.get();
        }
        // The model came first, so the request was already streaming upstream; it must end cut off.
        await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.incompleteRequests() == gw.mock.headsReceived());
        assertThat(gw.mock.requests()).isEmpty();
    }

    @Test
    void oversizedHeadIs431AndCloses() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            s.write(RawSocket.chat(acct.key(), chatBody(), "X-Padding: " + "a".repeat(20 * 1024)));

            RawHttp.Response r = s.readResponse();

            assertError(r, 431, "headers_too_large", INVALID_REQUEST);
            assertThat(s.closedByPeer()).isTrue();
        }
        assertThat(gw.mock.headsReceived()).isZero();
    }

    @Test
    void halfSentHeadIs408AndCloses() throws Exception {
        try (RawSocket s = new RawSocket(tight.proxy.port())) {
            s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Ty");

            RawHttp.Response r = s.readResponse();

            assertError(r, 408, "request_timeout", INVALID_REQUEST);
            assertThat(s.closedByPeer()).isTrue();
        }
        assertThat(tight.mock.headsReceived()).isZero();
    }

    @Test
    void contentLengthWithTransferEncodingIs400AndCloses() throws Exception {
        String body = chatBody();
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + acct.key() + "\r\n"
                    + "Content-Length: " + body.length() + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n");

            RawHttp.Response r = s.readResponse();

            assertError(r, 400, "invalid_request", INVALID_REQUEST);
            assertThat(s.closedByPeer()).isTrue();
        }
        assertThat(gw.mock.headsReceived()).isZero();
    }
}
