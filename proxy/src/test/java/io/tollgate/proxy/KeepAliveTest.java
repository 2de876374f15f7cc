package io.tollgate.proxy;

import io.tollgate.proxy.mock.RawHttp;
import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.proxy.mock.NoLeaksExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;

import static io.tollgate.proxy.ApiErrors.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/** HTTP/1.1 keep-alive on the client side, over a raw socket: sequential, pipelined, after a refusal. */
@ExtendWith(NoLeaksExtension.class)
class KeepAliveTest extends FundedGatewayTest {

    private static String chat(String key, int tokens) {
        return RawSocket.chat(key, Gateway.chatBody(Gateway.MODEL, false), "x-mock-tokens: " + tokens);
    }

    private static long completionTokens(RawHttp.Response r) throws IOException {
        assertThat(r.status()).as(r.bodyUtf8()).isEqualTo(200);
        JsonNode usage = ApiErrors.JSON.readTree(r.body()).get("usage");
        return usage.get("completion_tokens").asLong();
    }

    @Test
    void twoRequestsOneAfterTheOtherShareTheConnection() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            RawHttp.Response first = s.write(chat(acct.key(), 3)).readResponse();
            RawHttp.Response second = s.write(chat(acct.key(), 5)).readResponse();

            assertThat(completionTokens(first)).isEqualTo(3);
            assertThat(completionTokens(second)).isEqualTo(5);
            assertThat(first.header("x-request-id")).isNotEqualTo(second.header("x-request-id"));
        }
        assertThat(gw.mock.requests()).hasSize(2);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            s.write(chat(acct.key(), 3) + chat(acct.key(), 5) + chat(acct.key(), 2));

            assertThat(completionTokens(s.readResponse())).isEqualTo(3);
            assertThat(completionTokens(s.readResponse())).isEqualTo(5);
            assertThat(completionTokens(s.readResponse())).isEqualTo(2);
        }
    }

    @Test
    void aRefusedRequestsBodyIsDrainedAndTheConnectionStaysUsable() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            RawHttp.Response refused = s.write(chat("sk-not-a-key", 3)).readResponse();
            assertError(refused, 401, "invalid_api_key", "authentication_error");
            assertThat(refused.header("connection")).isNull();

            assertThat(completionTokens(s.write(chat(acct.key(), 4)).readResponse())).isEqualTo(4);
        }
        assertThat(gw.mock.requests()).hasSize(1);
    }

    @Test
    void aLargeRefusedBodyArrivingAfterTheAnswerIsDrainedToo() throws Exception {
        String big = new String(Gateway.bigChatBody(300 * 1024), java.nio.charset.StandardCharsets.UTF_8);
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            String refused = RawSocket.chat("sk-not-a-key", big);
            int headEnd = refused.indexOf("\r\n\r\n") + 4;
            s.write(refused.substring(0, headEnd));
            assertError(s.readResponse(), 401, "invalid_api_key", "authentication_error");

            s.write(refused.substring(headEnd) + chat(acct.key(), 4));

            assertThat(completionTokens(s.readResponse())).isEqualTo(4);
        }
        assertThat(gw.mock.requests()).hasSize(1);
    }

    /**
     * A client that asked for 100-continue and got a refusal instead never sends the body (RFC 9110
     * section 10.1.1), so the gateway cannot tell where the next request starts: it must close.
     */
    @Test
    void aRefusalOfAnExpectContinueRequestWhoseBodyNeverCameClosesTheConnection() throws Exception {
        String body = Gateway.chatBody(Gateway.MODEL, false);
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            String refused = RawSocket.chat("sk-not-a-key", body, "Expect: 100-continue");
            s.write(refused.substring(0, refused.length() - body.length()));

            RawHttp.Response r = s.readResponse();

            assertError(r, 401, "invalid_api_key", "authentication_error");
            assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            assertThat(s.closedByPeer()).isTrue();
        }
    }

    @Test
    void anExpectContinueRequestGets100ThenItsAnswer() throws Exception {
        String body = Gateway.chatBody(Gateway.MODEL, false);
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            String request = RawSocket.chat(acct.key(), body, "Expect: 100-continue", "x-mock-tokens: 3");
            s.write(request.substring(0, request.length() - body.length()));
            assertThat(s.readResponse().status()).isEqualTo(100);

            s.write(body);

            assertThat(completionTokens(s.readResponse())).isEqualTo(3);
            assertThat(completionTokens(s.write(chat(acct.key(), 4)).readResponse())).isEqualTo(4);
        }
    }

    @Test
    void aPipelinedRefusalDoesNotSwallowTheNextRequest() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            s.write(chat("sk-not-a-key", 3) + chat(acct.key(), 4)
                    + RawSocket.chat(acct.key(), "{\"model\":\"test-chat\"}") + chat(acct.key(), 6));

            assertError(s.readResponse(), 401, "invalid_api_key", "authentication_error");
            assertThat(completionTokens(s.readResponse())).isEqualTo(4);
            assertError(s.readResponse(), 400, "messages_required", "invalid_request_error");
            assertThat(completionTokens(s.readResponse())).isEqualTo(6);
        }
    }

    @Test
    void streamedAnswersKeepTheConnectionToo() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            String stream = RawSocket.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, true), "x-mock-tokens: 3");
            s.write(stream + chat(acct.key(), 5));

            RawHttp.Response streamed = s.readResponse();
            assertThat(streamed.status()).isEqualTo(200);
            assertThat(streamed.bodyUtf8()).endsWith("data: [DONE]\n\n");
            assertThat(completionTokens(s.readResponse())).isEqualTo(5);
        }
    }
}
