package io.tollgate.proxy.billing;

import io.tollgate.schema.Account;
import io.tollgate.schema.AccountStore;
import io.tollgate.schema.BillingStore;
import io.tollgate.schema.BillingStore.Reserve;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.RateLimits;
import io.tollgate.schema.RequestLogEntry;
import io.tollgate.schema.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Credit leases against the real database: never more than the balance, across proxies too. */
class CreditLeasesTest {

    private static final BigDecimal PRICE = new BigDecimal("0.25");
    private static TestDatabase db;
    private static BillingStore store;
    private static AccountStore accounts;
    private static KeyStore keys;
    private static ExecutorService blocking;

    @BeforeAll
    static void start() {
        db = TestDatabase.create();
        store = new BillingStore(db.database().dataSource());
        accounts = new AccountStore(db.database().dataSource());
        keys = new KeyStore(db.database().dataSource());
        blocking = Executors.newFixedThreadPool(8);
    }

    @AfterAll
    static void stop() {
        blocking.shutdownNow();
        db.close();
    }

    private record Funded(String accountId, String keyId) {
    }

    private static Funded fund(String balance, BigDecimal keyLimit) {
        Account a = accounts.create("lease-" + System.nanoTime(), "pro");
        accounts.credit(a.id(), new BigDecimal(balance), "topup", "test", null);
        return new Funded(a.id(), keys.create(a.id(), "k", null, keyLimit, null, RateLimits.NONE, 3).key().id());
    }

    private static CreditLeases leases(String holder) {
        return new CreditLeases(store, holder, blocking, Duration.ofSeconds(60), Duration.ofSeconds(60));
    }

    private static BigDecimal number(String sql) throws Exception {
        try (Connection c = db.database().dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getBigDecimal(1) == null ? BigDecimal.ZERO : rs.getBigDecimal(1);
        }
    }

    private static List<Reserve> reserveConcurrently(List<CreditLeases> proxies, Funded f, int n) {
        List<CompletableFuture<Reserve>> all = new ArrayList<>();
        try (ExecutorService clients = Executors.newFixedThreadPool(16)) {
            for (int i = 0; i < n; i++) {
                CreditLeases p = proxies.get(i % proxies.size());
                all.add(CompletableFuture.supplyAsync(() -> p.reserve(f.accountId(), f.keyId(), PRICE), clients)
                        .thenCompose(x -> x));
            }
            return all.stream().map(CompletableFuture::join).toList();
        }
    }

    @Test
    void aHundredConcurrentRequestsAgainstABalanceForTenGetExactlyTenOnOneProxy() throws Exception {
        Funded f = fund("2.5", null);
        List<Reserve> results = reserveConcurrently(List.of(leases("one")), f, 100);
        assertThat(results.stream().filter(r -> r == Reserve.RESERVED)).hasSize(10);
        assertThat(results.stream().filter(r -> r == Reserve.INSUFFICIENT_CREDITS)).hasSize(90);
        assertThat(number("SELECT balance - reserved FROM accounts WHERE id = '" + f.accountId() + "'")).isZero();
    }

    @Test
    void andAcrossTwoProxiesTogether() throws Exception {
        Funded f = fund("2.5", null);
        List<Reserve> results = reserveConcurrently(List.of(leases("a"), leases("b")), f, 100);
        assertThat(results.stream().filter(r -> r == Reserve.RESERVED)).hasSize(10);
        assertThat(number("SELECT reserved FROM accounts WHERE id = '" + f.accountId() + "'"))
                .isEqualByComparingTo("2.5");
    }

    @Test
    void aSliceRunningLowGrowsInTheBackgroundBeforeAnyoneHasToWait() throws Exception {
        Funded f = fund("100", null);
        CreditLeases p = leases("refill");
        String lease = "SELECT amount FROM credit_leases WHERE holder = 'refill' AND key_id = '" + f.keyId() + "'";
        assertThat(p.reserve(f.accountId(), f.keyId(), PRICE).join()).isEqualTo(Reserve.RESERVED);
        assertThat(number(lease)).isEqualByComparingTo("4");             // 16 reservations' worth

        // Eight more leave room for seven: below the mark of eight, so the ninth starts a growth.
        for (int i = 0; i < 8; i++) {
            CompletableFuture<Reserve> r = p.reserve(f.accountId(), f.keyId(), PRICE);
            assertThat(r).as("reservation %d", i + 2).isCompletedWithValue(Reserve.RESERVED);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> number(lease).compareTo(new BigDecimal("8")) == 0);

        // The room it made serves the next ones at once.
        for (int i = 0; i < 16; i++) {
            assertThat(p.reserve(f.accountId(), f.keyId(), PRICE)).isCompletedWithValue(Reserve.RESERVED);
        }
    }

    /**
     * One request on {@code p}: reserved, settled at its price, and that cost written; true when
     * its reservation had to wait for the database.
     */
    private static boolean spendOne(CreditLeases p, Funded f) {
        CompletableFuture<Reserve> r = p.reserve(f.accountId(), f.keyId(), PRICE);
        boolean waited = !r.isDone();
        assertThat(r.join()).isEqualTo(Reserve.RESERVED);
        p.settle(f.keyId(), PRICE, PRICE);
        p.written(f.keyId(), PRICE);
        return waited;
    }

    @Test
    void aBusyKeysSliceGrowsByWhatItSpentInTheLastSecond() throws Exception {
        Funded f = fund("1000", null);
        CreditLeases p = leases("busy");
        String lease = "SELECT amount FROM credit_leases WHERE holder = 'busy' AND key_id = '" + f.keyId() + "'";
        // Spend steadily, ten requests every 100 ms, until a whole second of it is measured.
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
            for (int i = 0; i < 10; i++) {
                spendOne(p, f);
            }
            return p.spentLastSecond(f.keyId()).signum() > 0;
        });
        BigDecimal spentBefore = p.spentLastSecond(f.keyId());
        BigDecimal before = number(lease);

        // Spending on at that pace, the next growth asks for a second's worth, not 16 reservations' (4).
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
            for (int i = 0; i < 10; i++) {
                spendOne(p, f);
            }
            return number(lease).compareTo(before) > 0;
        });
        BigDecimal grown = number(lease).subtract(before);
        assertThat(grown).isGreaterThan(PRICE.multiply(BigDecimal.valueOf(16)))
                .isGreaterThanOrEqualTo(spentBefore.min(p.spentLastSecond(f.keyId())));
    }

    @Test
    void aBusyKeyNeverWaitsForASlowGrowth() {
        Funded f = fund("1000", null);
        // The real database, answering every lease call 200 ms late (as one busy with a batch might).
        Executor slow = r -> blocking.execute(() -> {
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
            r.run();
        });
        CreditLeases p = new CreditLeases(store, "slow", slow, Duration.ofSeconds(60), Duration.ofSeconds(60));
        // A steady 100 requests a second (25 credits), until a whole second of it is measured.
        while (p.spentLastSecond(f.keyId()).signum() == 0) {
            spendTen(p, f);
        }
        for (int i = 0; i < 5; i++) {                    // what was asked for before that arrives
            spendTen(p, f);
        }
        // From now on the slice is grown while half a second's spending (12.5) is left, so the
        // 200 ms a growth takes (5 credits' worth) never leaves a reservation waiting. With only
        // eight reservations (2) left as the mark, the requests behind a growth waited each time.
        int waited = 0;
        for (int round = 0; round < 20; round++) {
            waited += spendTen(p, f);
        }
        assertThat(waited).as("reservations that waited for the database in 2 s of steady load").isZero();
    }

    /** Ten requests on {@code p}, then the rest of 100 ms; answers how many had to wait for a reservation. */
    private static int spendTen(CreditLeases p, Funded f) {
        long end = System.nanoTime() + Duration.ofMillis(100).toNanos();
        int waited = 0;
        for (int i = 0; i < 10; i++) {
            if (spendOne(p, f)) {
                waited++;
            }
        }
        LockSupport.parkNanos(end - System.nanoTime());  // pacing the load, not waiting for a result
        return waited;
    }

    @Test
    void aRefusedBackgroundGrowthLeavesTheRestOfTheSliceToBeSpentExactly() throws Exception {
        Funded f = fund("4.25", null);                                  // the first growth takes 4
        CreditLeases p = leases("last");
        List<Reserve> results = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            results.add(p.reserve(f.accountId(), f.keyId(), PRICE).join());
        }
        assertThat(results.stream().filter(r -> r == Reserve.RESERVED)).hasSize(17);
        assertThat(results.subList(17, 20)).containsOnly(Reserve.INSUFFICIENT_CREDITS);
        assertThat(number("SELECT balance - reserved FROM accounts WHERE id = '" + f.accountId() + "'")).isZero();
    }

    @Test
    void theKeysOwnLimitIsHeldToo() {
        Funded f = fund("100", new BigDecimal("0.5"));
        List<Reserve> results = reserveConcurrently(List.of(leases("k")), f, 5);
        assertThat(results.stream().filter(r -> r == Reserve.RESERVED)).hasSize(2);
        assertThat(results.stream().filter(r -> r == Reserve.KEY_CREDIT_LIMIT)).hasSize(3);
    }

    @Test
    void spendingMovesTheCostFromTheLeaseToTheBalanceOnceAndGivingBackFreesTheRest() throws Exception {
        Funded f = fund("10", null);
        CreditLeases p = leases("spender");
        assertThat(p.reserve(f.accountId(), f.keyId(), PRICE).join()).isEqualTo(Reserve.RESERVED);
        BigDecimal cost = new BigDecimal("0.1");
        p.settle(f.keyId(), PRICE, cost);
        RequestLogEntry log = new RequestLogEntry("req_spend_1", f.accountId(), f.keyId(), "m", "/chat/completions",
                200, null, 1, 1, 1L, 1L, cost, null, Instant.now());
        BillingStore.Outcome outcome = new BillingStore.Outcome("spender", cost, log);
        store.apply(List.of(outcome));
        store.apply(List.of(outcome));                  // a replay changes nothing
        p.written(f.keyId(), cost);

        assertThat(number("SELECT balance FROM accounts WHERE id = '" + f.accountId() + "'")).isEqualByComparingTo("9.9");
        assertThat(number("SELECT count(*) FROM ledger WHERE request_id = 'req_spend_1'")).isEqualByComparingTo("1");
        assertThat(number("SELECT credit_used FROM api_keys WHERE id = '" + f.keyId() + "'")).isEqualByComparingTo("0.1");

        p.returnAll();
        assertThat(number("SELECT reserved FROM accounts WHERE id = '" + f.accountId() + "'")).isZero();
        assertThat(number("SELECT credit_reserved FROM api_keys WHERE id = '" + f.keyId() + "'")).isZero();
    }

    @Test
    void aLeaseWhoseHolderStopsRenewingIsSweptByAnother() throws Exception {
        Funded f = fund("10", null);
        CreditLeases dying = new CreditLeases(store, "dying", blocking, Duration.ofSeconds(3), Duration.ofSeconds(60));
        assertThat(dying.reserve(f.accountId(), f.keyId(), PRICE).join()).isEqualTo(Reserve.RESERVED);
        assertThat(number("SELECT reserved FROM accounts WHERE id = '" + f.accountId() + "'")).isPositive();

        // "dying" never renews; a survivor's maintenance sweeps the lease once it has expired.
        CreditLeases survivor = leases("survivor");
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> {
            survivor.maintain();
            return number("SELECT reserved FROM accounts WHERE id = '" + f.accountId() + "'").signum() == 0;
        });
        assertThat(number("SELECT count(*) FROM credit_leases WHERE holder = 'dying'")).isZero();
    }
}
