package io.tollgate.proxy;

import io.tollgate.proxy.mock.RawHttp;
import io.tollgate.proxy.mock.MockProvider;
import io.tollgate.proxy.mock.NoLeaksExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A large body under the limit is streamed upstream as it arrives, once its model is known:
 * the gateway does not buffer whole requests.
 */
@ExtendWith(NoLeaksExtension.class)
class RequestBodyStreamingTest extends FundedGatewayTest {

    @Test
    void aSlowChunkedBodyWithTheModelFirstReachesTheUpstreamBeforeItEnds() throws Exception {
        byte[] body = Gateway.bigChatBody(400 * 1024);
        int chunk = 8 * 1024;
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + acct.key() + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            int half = body.length / 2 / chunk * chunk;
            for (int off = 0; off < half; off += chunk) {
                s.writeChunk(Arrays.copyOfRange(body, off, off + chunk));
            }

            // Half the body is still with the client, and the upstream already has the request head.
            await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.headsReceived() == 1);
            assertThat(gw.mock.requests()).isEmpty();

            for (int off = half; off < body.length; off += chunk) {
                s.writeChunk(Arrays.copyOfRange(body, off, Math.min(body.length, off + chunk)));
            }
            s.writeChunk(new byte[0]);
            RawHttp.Response r = s.readResponse();
            assertThat(r.status()).as(r.bodyUtf8()).isEqualTo(200);
        }
        assertThat(gw.mock.requests()).hasSize(1);
        MockProvider.RecordedRequest seen = gw.mock.requests().get(0);
        // Byte for byte what the client sent, but for the model's upstream name.
        assertThat(seen.bodyUtf8()).isEqualTo(new String(body, StandardCharsets.UTF_8)
                .replace("\"model\":\"" + Gateway.MODEL + "\"", "\"model\":\"mock-model\""));
    }
}
