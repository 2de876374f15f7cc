package io.tollgate.proxy;

import io.tollgate.proxy.billing.Prices;
import io.tollgate.proxy.mock.MockHeaders;
import io.tollgate.proxy.mock.MockProvider;
import io.tollgate.proxy.mock.NoLeaksExtension;
import io.tollgate.schema.Account;
import io.tollgate.schema.LedgerEntry;
import io.tollgate.schema.LedgerStore;
import io.tollgate.schema.RequestLogEntry;
import io.tollgate.schema.RequestLogStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After a mixed run, the money agrees everywhere to the last credit: the balance, the ledger, the
 * request log and what the upstream reported; nothing stays reserved; failures cost nothing.
 */
@ExtendWith(NoLeaksExtension.class)
class BillingAgreementTest {

    private static final BigDecimal INITIAL = new BigDecimal("50");

    static Gateway gw;

    @BeforeAll
    static void start() {
        gw = new Gateway();
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    private record Sent(String kind, CompletableFuture<HttpResponse<String>> response) {
    }

    private static String body(int words, boolean stream, String extra) {
        return "{\"model\":\"" + Gateway.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + "word ".repeat(words).trim() + "\"}]" + (stream ? ",\"stream\":true" : "") + extra + "}";
    }

    private static Sent send(String kind, String key, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(gw.uri("/v1/chat/completions"))
                .header("content-type", "application/json")
                .header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return new Sent(kind, gw.http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()));
    }

    @Test
    void balanceLedgerRequestLogAndUpstreamUsageAgree() throws Exception {
        Gateway.Funded acct = gw.fund(INITIAL.toPlainString());
        List<Sent> sent = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            sent.add(send("ok", acct.key(), body(i, false, ""), MockHeaders.TOKENS, String.valueOf(i)));
        }
        for (int i = 1; i <= 6; i++) {
            sent.add(send("ok", acct.key(), body(10 + i, true, ""), MockHeaders.TOKENS, String.valueOf(i + 2)));
        }
        for (int i = 1; i <= 6; i++) {
            sent.add(send("ok", acct.key(), body(20 + i, true, ",\"stream_options\":{\"include_usage\":true}"),
                    MockHeaders.TOKENS, String.valueOf(i + 4)));
        }
        for (int i = 1; i <= 3; i++) {
            sent.add(send("ok", acct.key(), body(30 + i, false, ",\"max_tokens\":2"), MockHeaders.TOKENS, "9"));
        }
        for (int i = 1; i <= 4; i++) {
            sent.add(send("failed", acct.key(), body(40 + i, i % 2 == 0, ""), MockHeaders.STATUS, "500"));
        }
        for (int i = 1; i <= 3; i++) {
            sent.add(send("refused", "sk-not-a-key-" + i, body(50 + i, false, "")));
        }
        Map<String, Integer> expectedStatus = Map.of("ok", 200, "failed", 502, "refused", 401);
        List<String> requestIds = new ArrayList<>();
        for (Sent s : sent) {
            HttpResponse<String> r = s.response().join();
            assertThat(r.statusCode()).as(s.kind() + ": " + r.body()).isEqualTo(expectedStatus.get(s.kind()));
            requestIds.add(r.headers().firstValue("x-request-id").orElseThrow());
        }
        long ok = sent.stream().filter(s -> s.kind().equals("ok")).count();

        gw.awaitSettled();

        // What the upstream reported, and what it costs at the price list.
        List<MockProvider.Usage> usages = gw.mock.reportedUsages();
        assertThat(usages).hasSize((int) ok);
        BigDecimal spent = usages.stream()
                .map(u -> Prices.tokens(Gateway.PRICING, u.promptTokens(), u.completionTokens()))
                .reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(spent).isPositive();

        // The balance, to the last credit; what stays reserved is exactly the proxy's credit lease...
        Account account = gw.accounts.find(acct.accountId()).orElseThrow();
        assertThat(account.balance()).isEqualByComparingTo(INITIAL.subtract(spent));
        assertThat(account.reserved()).isEqualByComparingTo(gw.queryNumber(
                "SELECT coalesce(sum(amount), 0) FROM credit_leases WHERE account_id = '" + acct.accountId() + "'"));
        // ...and once the proxy gives its leases back, nothing is reserved at all.
        gw.proxy.returnLeases();
        account = gw.accounts.find(acct.accountId()).orElseThrow();
        assertThat(account.reserved()).isZero();
        assertThat(gw.queryNumber("SELECT count(*) FROM credit_leases")).isZero();
        assertThat(gw.keys.find(acct.keyId()).orElseThrow().creditUsed()).isEqualByComparingTo(spent);
        assertThat(gw.keys.find(acct.keyId()).orElseThrow().creditReserved()).isZero();

        // The ledger: the top-up and one settlement per successful request, summing to the balance.
        List<LedgerEntry> ledger = new LedgerStore(gw.db.database().dataSource()).list(acct.accountId(), 1000);
        List<LedgerEntry> settlements = ledger.stream().filter(e -> e.kind().equals("settlement")).toList();
        assertThat(settlements).hasSize((int) ok);
        assertThat(settlements).extracting(LedgerEntry::requestId).doesNotHaveDuplicates();
        assertThat(ledger.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add))
                .isEqualByComparingTo(account.balance());
        BigDecimal settled = settlements.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(settled.negate()).isEqualByComparingTo(spent);

        // The request log: one row per request sent, refusals included, agreeing with the ledger.
        List<RequestLogEntry> log = new RequestLogStore(gw.db.database().dataSource()).list(null, null, 1000);
        assertThat(log).extracting(RequestLogEntry::requestId).containsExactlyInAnyOrderElementsOf(requestIds);
        Map<Integer, List<RequestLogEntry>> byStatus = log.stream().collect(Collectors.groupingBy(RequestLogEntry::status));
        assertThat(byStatus.keySet()).containsExactlyInAnyOrder(200, 502, 401);
        List<RequestLogEntry> paid = byStatus.get(200);
        assertThat(paid).hasSize((int) ok);
        assertThat(paid).extracting(RequestLogEntry::requestId)
                .containsExactlyInAnyOrderElementsOf(settlements.stream().map(LedgerEntry::requestId).toList());
        Map<String, BigDecimal> settledById = settlements.stream()
                .collect(Collectors.toMap(LedgerEntry::requestId, e -> e.amount().negate()));
        for (RequestLogEntry row : paid) {
            assertThat(row.credits()).as(row.requestId()).isEqualByComparingTo(settledById.get(row.requestId()))
                    .isEqualByComparingTo(Prices.tokens(Gateway.PRICING, row.inputTokens(), row.outputTokens()));
        }
        assertThat(paid).extracting(r -> r.inputTokens() + ":" + r.outputTokens())
                .containsExactlyInAnyOrderElementsOf(usages.stream()
                        .map(u -> u.promptTokens() + ":" + u.completionTokens()).toList());
        assertThat(log.stream().map(RequestLogEntry::credits).reduce(BigDecimal.ZERO, BigDecimal::add))
                .isEqualByComparingTo(spent);
        for (RequestLogEntry row : byStatus.get(502)) {
            assertThat(row.credits()).isZero();
            assertThat(row.errorCode()).isEqualTo("upstream_error");
            assertThat(row.accountId()).isEqualTo(acct.accountId());
        }
        assertThat(byStatus.get(502)).hasSize(4);
        assertThat(byStatus.get(401)).hasSize(3).allSatisfy(row -> {
            assertThat(row.errorCode()).isEqualTo("invalid_api_key");
            assertThat(row.credits()).isZero();
        });
    }
}
