package io.tollgate.proxy;

import io.tollgate.proxy.mock.RawHttp;
import io.tollgate.proxy.chat.ContentRules;
import io.tollgate.proxy.mock.MockProvider;
import io.tollgate.proxy.mock.NoLeaksExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.tollgate.proxy.ApiErrors.JSON;
import static io.tollgate.proxy.ApiErrors.assertError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SPEC section 2's message limits (200 messages, 64,000 characters) and the content rules, over
 * real sockets: the SPEC error, and an upstream that never receives the refused request whole,
 * even when it was already streaming there.
 */
@ExtendWith(NoLeaksExtension.class)
class ContentLimitsTest {

    private static final String INVALID_REQUEST = "invalid_request_error";
    private static final String CHUNKED_HEAD = "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\n"
            + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nAuthorization: Bearer ";
    /** 20 emoji (two UTF-16 units each) and 300 letters: 320 code points, 340 UTF-16 units. */
    private static final String TEXT_320 = "\uD83D\uDE00".repeat(20) + "a".repeat(300);

    static Gateway gw;
    static Gateway.Funded acct;

    @BeforeAll
    static void start() {
        gw = new Gateway(Gateway.specConfig().withContentRules(
                ContentRules.of(List.of("open sesame"), List.of("sk-[A-Za-z0-9]{20,}"))));
        acct = gw.fund("100");
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @BeforeEach
    void resetMock() {
        gw.mock.reset();
    }

    private static String user(String content) {
        return "{\"role\":\"user\",\"content\":\"" + content + "\"}";
    }

    /** {@code n} user messages of {@link #TEXT_320}, each followed by a comma. */
    private static String messages(int n) {
        return (user(TEXT_320) + ",").repeat(n);
    }

    private static String head() {
        return "{\"model\":\"" + Gateway.MODEL + "\",\"messages\":[";
    }

    /**
     * Sends {@code first} as one chunk, waits until the upstream has the request's head (the body is
     * on its way there), then sends the rest and reads the answer.
     */
    private static RawHttp.Response sendInTwo(RawSocket s, String first, String rest) throws IOException {
        s.write(CHUNKED_HEAD + acct.key() + "\r\n\r\n");
        s.writeChunk(first.getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.headsReceived() == 1);
        s.writeChunk(rest.getBytes(StandardCharsets.UTF_8));
        s.writeChunk(new byte[0]);
        return s.readResponse();
    }

    /** The refused request reached the upstream only in part, and the connection still serves. */
    private static void assertCutOffUpstreamAndConnectionReusable(RawSocket s) throws IOException {
        await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.incompleteRequests() == 1);
        assertThat(gw.mock.requests()).isEmpty();

        // The rest of the refused body was read and dropped: the next request on this connection works.
        RawHttp.Response next = s.write(RawSocket.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, false))).readResponse();
        assertThat(next.status()).as(next.bodyUtf8()).isEqualTo(200);
        assertThat(gw.mock.requests()).hasSize(1);
        assertThat(gw.mock.requests().get(0).bodyUtf8()).contains("say hello to the gateway");
    }

    private static void assertLogged(String code) throws Exception {
        gw.awaitSettled();
        assertThat(gw.queryNumber("SELECT count(*) FROM request_log WHERE error_code = '" + code + "'"))
                .isPositive();
    }

    @Test
    void theTwoHundredFirstMessageIs400TooManyMessagesAndNeverReachesTheUpstream() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            // 200 messages of 1 character stream upstream; the 201st element is refused as it starts.
            RawHttp.Response r = sendInTwo(s, head() + (user("x") + ",").repeat(200), user("x") + "]}");

            assertError(r, 400, "too_many_messages", INVALID_REQUEST);
            assertCutOffUpstreamAndConnectionReusable(s);
        }
        assertLogged("too_many_messages");
    }

    @Test
    void theCharacterPastSixtyFourThousandIs400MessageTooLongAndNeverReachesTheUpstream() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            // 199 × 320 = 63,680 code points go upstream; the last message brings 321 more: 64,001.
            String first = head() + messages(199);
            String rest = user(TEXT_320 + "b") + "]}";

            RawHttp.Response r = sendInTwo(s, first, rest);

            assertError(r, 400, "message_too_long", INVALID_REQUEST);
            assertCutOffUpstreamAndConnectionReusable(s);
        }
        assertLogged("message_too_long");
    }

    @Test
    void oneLongTextPartOverTheLimitIs400MessageTooLong() throws Exception {
        String body = head() + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"" + "a".repeat(64_001)
                + "\"}]}]}";

        HttpResponse<String> r = gw.chat(acct.key(), body);

        assertError(r, 400, "message_too_long", INVALID_REQUEST);
        await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.incompleteRequests() == gw.mock.headsReceived());
        assertThat(gw.mock.requests()).isEmpty();
    }

    @Test
    void exactlyTwoHundredMessagesOfSixtyFourThousandCharactersPassWhole() throws Exception {
        // 68,000 UTF-16 units, but 64,000 code points: what counts is code points.
        String body = head() + messages(199) + user(TEXT_320) + "]}";

        HttpResponse<String> r = gw.chat(acct.key(), body);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-request-id")).isPresent();
        List<MockProvider.RecordedRequest> seen = gw.mock.requests();
        assertThat(seen).hasSize(1);
        assertThat(JSON.readTree(seen.get(0).bodyUtf8()).get("messages").size()).isEqualTo(200);
        assertThat(seen.get(0).bodyUtf8()).isEqualTo(body.replace(Gateway.MODEL, "mock-model"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"please say OPEN Sesame", "my key is sk-abcdefghijklmnopqrstuvwxyz"})
    void textMatchingAContentRuleIs403ContentFilter(String text) throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), head() + user("hello") + ","
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"" + text + "\"}]}]}");

        assertError(r, 403, "content_filter", "permission_error");
        await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.incompleteRequests() == gw.mock.headsReceived());
        assertThat(gw.mock.requests()).isEmpty();
    }

    @Test
    void aContentRuleIsMatchedWhileTheBodyStreams() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            RawHttp.Response r = sendInTwo(s, head() + messages(3),
                    "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"the password is open sesame\"}]}");

            assertError(r, 403, "content_filter", "permission_error");
            assertCutOffUpstreamAndConnectionReusable(s);
        }
    }

    @Test
    void ruleWordsOutsideMessageTextPass() throws Exception {
        List<String> parts = new ArrayList<>();
        parts.add("{\"role\":\"user\",\"name\":\"open sesame\",\"content\":\"hello\"}");
        parts.add("{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"open \"},{\"type\":\"text\",\"text\":\"sesame\"}]}");
        HttpResponse<String> r = gw.chat(acct.key(), head() + String.join(",", parts) + "],\"user\":\"open sesame\"}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
}
