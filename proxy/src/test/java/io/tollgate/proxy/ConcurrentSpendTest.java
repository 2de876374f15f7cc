package io.tollgate.proxy;

import io.tollgate.schema.Account;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.LedgerEntry;
import io.tollgate.schema.LedgerStore;
import io.tollgate.schema.RateLimits;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A hundred requests at once against a balance that covers exactly ten, through two proxies on
 * one database: at most ten get through, the balance never goes below zero and ends exact.
 */
class ConcurrentSpendTest {

    @Test
    void aHundredConcurrentRequestsAcrossTwoProxiesSpendNoMoreThanTheBalance() throws Exception {
        try (Gateway gw = new Gateway();
             ProxyServer second = ProxyServer.start(Gateway.config(), Gateway.roomyLimits(), gw.db.database())) {
            // A flat price per request: what is reserved is exactly what is spent, so a balance of
            // ten prices covers exactly ten requests however their answers overlap.
            BigDecimal perRequest = new BigDecimal("0.1");
            gw.putModel("flat-chat", "mock-model",
                    new io.tollgate.schema.Pricing(perRequest, null, null, null, null), 1000);
            gw.awaitModels("flat-chat");
            String body = Gateway.chatBody("flat-chat", false);
            BigDecimal balance = perRequest.multiply(BigDecimal.TEN);
            Account a = gw.accounts.create("ten", "pro");
            gw.accounts.credit(a.id(), balance, "topup", "exactly ten", null);
            KeyStore.Created k = gw.keys.create(a.id(), "k", null, null, null, RateLimits.NONE, 3);
            gw.awaitKnown(k.plaintext());

            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                int port = i % 2 == 0 ? gw.proxy.port() : second.port();
                all.add(gw.http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                        .header("authorization", "Bearer " + k.plaintext())
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            List<Integer> statuses = all.stream().map(f -> f.join().statusCode()).toList();

            long ok = statuses.stream().filter(s -> s == 200).count();
            assertThat(statuses).containsOnly(200, 402);
            assertThat(ok).isEqualTo(10L);                 // all ten that fit, and not one more
            gw.awaitSettled();
            await(second);
            BigDecimal spent = new LedgerStore(gw.db.database().dataSource()).list(a.id(), 200).stream()
                    .filter(e -> e.kind().equals("settlement")).map(LedgerEntry::amount)
                    .reduce(BigDecimal.ZERO, BigDecimal::add).negate();
            Account after = gw.accounts.find(a.id()).orElseThrow();
            assertThat(after.balance()).isGreaterThanOrEqualTo(BigDecimal.ZERO);
            assertThat(after.balance()).isEqualByComparingTo(balance.subtract(spent));
            assertThat(spent).isEqualByComparingTo(balance);
            assertThat(after.balance()).isZero();
            assertThat(gw.mock.reportedUsages()).hasSize((int) ok);
        }
    }

    private static void await(ProxyServer p) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> p.pendingOutcomes() == 0);
    }
}
