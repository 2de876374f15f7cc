package io.tollgate.proxy;

import io.tollgate.proxy.billing.Prices;
import io.tollgate.schema.LedgerEntry;
import io.tollgate.schema.LedgerStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What a request costs when the client leaves early or the upstream reports nonsense. */
class MeteringTest {

    static Gateway gw;

    @BeforeAll
    static void start() {
        gw = new Gateway();
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

    @Test
    void aClientLeavingMidStreamCancelsTheUpstreamAndPaysForWhatItReceived() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String body = Gateway.chatBody(Gateway.MODEL, true);
        HttpResponse<InputStream> r = gw.http.send(HttpRequest.newBuilder(gw.uri("/v1/chat/completions"))
                .header("authorization", "Bearer " + f.key())
                .header("x-mock-tokens", "40")
                .header("x-mock-chunk-delay-ms", "50")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
        int received = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            while (received < 3 && (line = in.readLine()) != null) {
                if (line.startsWith("data:")) {
                    received++;
                }
            }
        }                                                    // closing the stream closes the connection

        await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.abandonedAnswers() == 1);
        gw.awaitSettled();
        assertThat(gw.mock.reportedUsages()).isEmpty();      // the upstream never finished its answer
        List<LedgerEntry> paid = settlements(f.accountId());
        assertThat(paid).hasSize(1);
        BigDecimal cost = paid.get(0).amount().negate();
        // At least the chunks the client had, never the whole answer it did not get.
        long inputEstimate = body.getBytes(StandardCharsets.UTF_8).length / 4;
        assertThat(cost).isGreaterThanOrEqualTo(Prices.tokens(Gateway.PRICING, inputEstimate, received));
        assertThat(cost).isLessThan(Prices.tokens(Gateway.PRICING, inputEstimate, 40));
    }

    @Test
    void aClientLeavingBeforeTheFirstByteCostsNothing() throws Exception {
        Gateway.Funded f = gw.fund("10");
        var pending = gw.http.sendAsync(HttpRequest.newBuilder(gw.uri("/v1/chat/completions"))
                .header("authorization", "Bearer " + f.key())
                .header("x-mock-first-byte-delay-ms", "5000")
                .POST(HttpRequest.BodyPublishers.ofString(Gateway.chatBody(Gateway.MODEL, false))).build(),
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.headsReceived() == 1);
        pending.cancel(true);                                // the JDK client closes the connection

        await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.abandonedAnswers() == 1);
        gw.awaitSettled();
        await().atMost(Duration.ofSeconds(5)).until(() -> gw.queryNumber(
                "SELECT count(*) FROM request_log WHERE account_id = '" + f.accountId() + "' AND status = 499").intValue() == 1);
        assertThat(settlements(f.accountId())).isEmpty();
    }

    @Test
    void absurdUsageIsClampedToWhatTheReservationWasMadeFor() throws Exception {
        Gateway.Funded f = gw.fund("1000");
        String body = "{\"model\":\"" + Gateway.MODEL + "\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> r = gw.chat(f.key(), body, "x-mock-reported-prompt-tokens", "999999999999");
        assertThat(r.statusCode()).isEqualTo(200);
        HttpResponse<String> negative = gw.chat(f.key(), body, "x-mock-reported-prompt-tokens", "-50");
        assertThat(negative.statusCode()).isEqualTo(200);

        gw.awaitSettled();
        long bodyBytes = body.getBytes(StandardCharsets.UTF_8).length;
        List<LedgerEntry> paid = settlements(f.accountId());
        assertThat(paid).extracting(e -> e.amount().negate()).containsExactlyInAnyOrder(
                Prices.tokens(Gateway.PRICING, bodyBytes, 5),  // input held to the body's size
                Prices.tokens(Gateway.PRICING, 0, 5));         // and never below zero
    }
}
