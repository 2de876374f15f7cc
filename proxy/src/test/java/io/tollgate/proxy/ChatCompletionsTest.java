package io.tollgate.proxy;

import io.tollgate.proxy.mock.MockHeaders;
import io.tollgate.proxy.mock.MockProvider;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ChatCompletionsTest extends FundedGatewayTest {

    @Test
    void plainChatIsRelayedWithTheUpstreamsKeyAndModelName() throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, false));

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-request-id")).hasValueSatisfying(id -> assertThat(id).startsWith("req_"));
        assertThat(r.body()).contains("\"chat.completion\"").contains("\"usage\"");
        MockProvider.RecordedRequest seen = gw.mock.requests().get(0);
        assertThat(seen.headers().get("authorization")).isEqualTo("Bearer " + Gateway.UPSTREAM_KEY);
        assertThat(seen.bodyUtf8()).contains("\"model\":\"mock-model\"").doesNotContain(Gateway.MODEL);
        assertThat(seen.uri()).isEqualTo("/v1/chat/completions");
    }

    /** The client's own request id and the upstream's never travel on: each hop sees one, ours. */
    @Test
    void eachHopSeesOneRequestIdHostKeyAndLengthOurs() throws Exception {
        HttpResponse<String> r = gw.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, false), "x-request-id", "client-chosen");

        assertThat(r.statusCode()).isEqualTo(200);
        String id = r.headers().firstValue("x-request-id").orElseThrow();
        assertThat(r.headers().allValues("x-request-id")).containsExactly(id);
        assertThat(id).startsWith("req_");
        MockProvider.RecordedRequest seen = gw.mock.requests().get(0);
        assertThat(seen.headers().getAll("x-request-id")).containsExactly(id);
        assertThat(seen.headers().getAll("authorization")).containsExactly("Bearer " + Gateway.UPSTREAM_KEY);
        assertThat(seen.headers().getAll("host")).hasSize(1);
        assertThat(seen.headers().getAll("content-length")).containsExactly(Integer.toString(seen.body().length));
    }

    @Test
    void apiPrefixServesTheSameEndpoint() throws Exception {
        HttpResponse<String> r = gw.http.send(HttpRequest.newBuilder(gw.uri("/api/v1/chat/completions"))
                .header("x-api-key", acct.key())
                .POST(HttpRequest.BodyPublishers.ofString(Gateway.chatBody(Gateway.MODEL, false))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(gw.mock.requests().get(0).headers().get("x-api-key")).isNull();
    }

    @Test
    void streamArrivesEventByEventBeforeTheUpstreamHasFinished() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(gw.uri("/v1/chat/completions"))
                .header("authorization", "Bearer " + acct.key())
                .header("x-mock-tokens", "6")
                .header("x-mock-chunk-delay-ms", "150")
                .POST(HttpRequest.BodyPublishers.ofString(Gateway.chatBody(Gateway.MODEL, true))).build();
        HttpResponse<InputStream> r = gw.http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
        List<String> events = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String first = readData(in);
            // The upstream still has chunks to send: nothing has been reported as finished.
            assertThat(gw.mock.reportedUsages()).isEmpty();
            events.add(first);
            String line;
            while ((line = readData(in)) != null) {
                events.add(line);
            }
        }
        assertThat(events.get(events.size() - 1)).isEqualTo("data: [DONE]");
        assertThat(events).hasSize(7);                       // 6 tokens and [DONE]
        assertThat(String.join("\n", events)).doesNotContain("\"usage\":{");
        // The gateway asked the upstream for usage on the client's behalf.
        assertThat(gw.mock.requests().get(0).bodyUtf8()).contains("\"include_usage\":true");
    }

    @Test
    void aStreamsHeadIsPassedOnBeforeItsFirstChunkExists() throws Exception {
        // The upstream sends its head now and its first chunk in a minute: the head must not wait
        // for the write that the first chunk would flush.
        HttpRequest req = HttpRequest.newBuilder(gw.uri("/v1/chat/completions"))
                .header("authorization", "Bearer " + acct.key())
                .header(MockHeaders.FIRST_CHUNK_DELAY_MS, "60000")
                .POST(HttpRequest.BodyPublishers.ofString(Gateway.chatBody(Gateway.MODEL, true))).build();
        HttpResponse<InputStream> r = gw.http.sendAsync(req, HttpResponse.BodyHandlers.ofInputStream())
                .get(10, TimeUnit.SECONDS);
        try (InputStream body = r.body()) {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
            assertThat(gw.mock.requests()).hasSize(1);
        }
    }

    @Test
    void streamKeepsTheUsageChunkWhenTheClientAskedForIt() throws Exception {
        String body = "{\"model\":\"" + Gateway.MODEL + "\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> r = gw.chat(acct.key(), body, "x-mock-tokens", "3");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"choices\":[]").contains("\"usage\":{");
    }

    private static String readData(BufferedReader in) throws Exception {
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("data:")) {
                return line;
            }
        }
        return null;
    }
}
