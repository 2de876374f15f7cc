package io.tollgate.schema;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A batch of settlements over two keys of one account, against the real database. */
class BillingStoreTest {

    private static TestDatabase db;
    private static BillingStore store;
    private static AccountStore accounts;
    private static KeyStore keys;

    @BeforeAll
    static void start() {
        db = TestDatabase.create();
        store = new BillingStore(db.database().dataSource());
        accounts = new AccountStore(db.database().dataSource());
        keys = new KeyStore(db.database().dataSource());
    }

    @AfterAll
    static void stop() {
        db.close();
    }

    private static BillingStore.Outcome spend(String requestId, String accountId, String keyId, String cost) {
        RequestLogEntry log = new RequestLogEntry(requestId, accountId, keyId, "m", "/chat/completions", 200, null,
                1, 1, 1L, 1L, new BigDecimal(cost), null, Instant.now());
        return new BillingStore.Outcome("proxy-1", new BigDecimal(cost), log);
    }

    @Test
    void aBatchMovesEachKeyOnceAndWritesARunningLedgerOncePerRequest() throws Exception {
        Account a = accounts.create("batch", "pro");
        accounts.credit(a.id(), new BigDecimal("10"), "topup", "t", null);
        String k1 = keys.create(a.id(), "one", null, null, null, RateLimits.NONE, 3).key().id();
        String k2 = keys.create(a.id(), "two", null, null, null, RateLimits.NONE, 3).key().id();
        assertThat(store.growLease("proxy-1", k1, a.id(), BigDecimal.ONE, new BigDecimal("3"), 60).total())
                .isEqualByComparingTo("3");
        assertThat(store.growLease("proxy-1", k2, a.id(), BigDecimal.ONE, new BigDecimal("3"), 60).total())
                .isEqualByComparingTo("3");

        List<BillingStore.Outcome> batch = List.of(
                spend("req_b1", a.id(), k1, "1.0"),
                spend("req_b2", a.id(), k2, "2.0"),
                spend("req_b3", a.id(), k1, "0.5"),
                spend("req_b4", a.id(), k2, "0"));
        store.apply(batch);
        store.apply(batch);                                  // a replay changes nothing

        Account after = accounts.find(a.id()).orElseThrow();
        assertThat(after.balance()).isEqualByComparingTo("6.5");
        assertThat(after.reserved()).isEqualByComparingTo("2.5");  // 6 leased − 3.5 spent out of it
        assertThat(keys.find(k1).orElseThrow().creditUsed()).isEqualByComparingTo("1.5");
        assertThat(keys.find(k2).orElseThrow().creditUsed()).isEqualByComparingTo("2.0");
        List<LedgerEntry> settlements = new LedgerStore(db.database().dataSource()).list(a.id(), 10).stream()
                .filter(e -> e.kind().equals("settlement"))
                .sorted(Comparator.comparing(LedgerEntry::requestId)).toList();
        assertThat(settlements).extracting(LedgerEntry::requestId).containsExactly("req_b1", "req_b2", "req_b3");
        assertThat(settlements).extracting(LedgerEntry::amount)
                .usingElementComparator(BigDecimal::compareTo)
                .containsExactly(new BigDecimal("-1.0"), new BigDecimal("-2.0"), new BigDecimal("-0.5"));
        assertThat(settlements).extracting(LedgerEntry::balanceAfter)
                .usingElementComparator(BigDecimal::compareTo)
                .containsExactly(new BigDecimal("9.0"), new BigDecimal("7.0"), new BigDecimal("6.5"));
    }

    @Test
    void aCostWithoutALeaseIsChargedToTheBalanceDirectly() throws Exception {
        Account a = accounts.create("no-lease", "pro");
        accounts.credit(a.id(), new BigDecimal("5"), "topup", "t", null);
        String k = keys.create(a.id(), "k", null, null, null, RateLimits.NONE, 3).key().id();

        store.apply(List.of(spend("req_nl", a.id(), k, "1.25")));

        Account after = accounts.find(a.id()).orElseThrow();
        assertThat(after.balance()).isEqualByComparingTo("3.75");
        assertThat(after.reserved()).isZero();
    }

    @Test
    void aBatchOverlappingAnAppliedOneChargesOnlyTheNewRequests() throws Exception {
        Account a = accounts.create("overlap", "pro");
        accounts.credit(a.id(), new BigDecimal("10"), "topup", "t", null);
        String k = keys.create(a.id(), "k", null, null, null, RateLimits.NONE, 3).key().id();
        store.growLease("proxy-1", k, a.id(), BigDecimal.ONE, BigDecimal.ONE, 60);

        store.apply(List.of(spend("req_o1", a.id(), k, "0.75")));
        store.apply(List.of(spend("req_o1", a.id(), k, "0.75"), spend("req_o2", a.id(), k, "0.5")));

        Account after = accounts.find(a.id()).orElseThrow();
        assertThat(after.balance()).isEqualByComparingTo("8.75");
        // the lease of 1 paid 0.75 and then the 0.25 it had left; the rest came from the balance
        assertThat(after.reserved()).isZero();
        assertThat(keys.find(k).orElseThrow().creditUsed()).isEqualByComparingTo("1.25");
        assertThat(new LedgerStore(db.database().dataSource()).list(a.id(), 10))
                .filteredOn(e -> e.kind().equals("settlement"))
                .extracting(LedgerEntry::requestId).containsExactlyInAnyOrder("req_o1", "req_o2");
    }

    @Test
    void requestLogRowsArriveExactlyWhateverTheirText() throws Exception {
        Account a = accounts.create("log-text", "pro");
        String k = keys.create(a.id(), "k", null, null, null, RateLimits.NONE, 3).key().id();
        Instant at = Instant.parse("2026-12-06T00:00:00.123456Z");
        RequestLogEntry awkward = new RequestLogEntry("req_t1", a.id(), k, "m \"quoted\", {braced} \\ NULL 模型",
                "/chat/completions", 502, "upstream_502", 12, null, null, 7L, BigDecimal.ZERO, "up,1", at);
        RequestLogEntry plain = new RequestLogEntry("req_t2", a.id(), k, "NULL", "/models", 200, null,
                3, 2, 5L, Long.MAX_VALUE, new BigDecimal("0.000123"), null, at);
        store.apply(List.of(new BillingStore.Outcome(null, null, awkward), new BillingStore.Outcome(null, null, plain)));

        List<RequestLogEntry> rows = new RequestLogStore(db.database().dataSource()).list(a.id(), null, 10);
        assertThat(rows).usingRecursiveFieldByFieldElementComparatorIgnoringFields("credits")
                .containsExactlyInAnyOrder(awkward, plain);
        assertThat(rows).extracting(RequestLogEntry::credits).usingElementComparator(BigDecimal::compareTo)
                .containsExactlyInAnyOrder(BigDecimal.ZERO, new BigDecimal("0.000123"));
    }
}
