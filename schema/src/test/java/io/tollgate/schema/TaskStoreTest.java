package io.tollgate.schema;

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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** The task functions of V7 on the real PostgreSQL: reservations moved, limits kept, settled once. */
class TaskStoreTest {

    private static TestDatabase db;
    private static TaskStore tasks;
    private static BillingStore billing;
    private static AccountStore accounts;
    private static KeyStore keys;

    @BeforeAll
    static void setUp() {
        db = TestDatabase.create();
        tasks = new TaskStore(db.database().dataSource());
        billing = new BillingStore(db.database().dataSource());
        accounts = new AccountStore(db.database().dataSource());
        keys = new KeyStore(db.database().dataSource());
    }

    @AfterAll
    static void tearDown() {
        db.close();
    }

    private record Funded(String accountId, String keyId) {
    }

    private static Funded fund(String balance, BigDecimal keyLimit) {
        Account a = accounts.create("a-" + System.nanoTime(), "pro");
        accounts.credit(a.id(), new BigDecimal(balance), "topup", "test", null);
        KeyStore.Created k = keys.create(a.id(), "k", null, keyLimit, null, RateLimits.NONE, 3);
        return new Funded(a.id(), k.key().id());
    }

    private static TaskStore.NewTask video(String id, Funded f, String seconds, String reserved) {
        return new TaskStore.NewTask(id, MediaTask.VIDEO, "req_" + id, f.accountId(), f.keyId(), "vid", "ups_1",
                "up-vid", new BigDecimal(seconds), null, new BigDecimal("0.5"), new BigDecimal(reserved));
    }

    private static BigDecimal number(String sql) throws Exception {
        try (Connection c = db.database().dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            BigDecimal v = rs.getBigDecimal(1);
            return v == null ? BigDecimal.ZERO : v;
        }
    }

    private static BigDecimal reserved(Funded f) throws Exception {
        return number("SELECT reserved FROM accounts WHERE id = '" + f.accountId() + "'");
    }

    private static RequestLogEntry submitRow(String requestId, Funded f) {
        return new RequestLogEntry(requestId, f.accountId(), f.keyId(), "vid", "/videos/generations", 200, null, 5, 5,
                null, null, BigDecimal.ZERO, "ups_1", Instant.now());
    }

    @Test
    void aTaskTakesItsReservationOutOfTheLeaseAndSettlesItOnce() throws Exception {
        Funded f = fund("10", null);
        assertThat(billing.growLease("px_a", f.keyId(), f.accountId(), new BigDecimal("5"), new BigDecimal("5"), 60)
                .total()).isEqualByComparingTo("5");

        assertThat(tasks.open(video("t1", f, "8", "4"), "px_a", 2)).isEqualTo(TaskStore.Open.OPENED);
        // The 4 moved from the lease to the task: reserved overall stays 5.
        assertThat(number("SELECT amount FROM credit_leases WHERE holder = 'px_a'")).isEqualByComparingTo("1");
        assertThat(reserved(f)).isEqualByComparingTo("5");
        assertThat(tasks.get("t1").status()).isEqualTo(MediaTask.SUBMITTING);

        assertThat(tasks.accepted("t1", "up-1", MediaTask.QUEUED, submitRow("req_t1", f))).isTrue();
        assertThat(tasks.accepted("t1", "up-1", MediaTask.QUEUED, submitRow("req_t1", f))).isFalse();
        assertThat(tasks.finish("t1", true, new BigDecimal("3"), new BigDecimal("6"), "{\"video_url\":\"u\"}", null)).isTrue();
        assertThat(tasks.finish("t1", true, new BigDecimal("3"), new BigDecimal("6"), "{\"video_url\":\"u\"}", null)).isFalse();
        assertThat(tasks.finish("t1", false, null, null, null, "late")).isFalse();

        MediaTask done = tasks.get("t1");
        assertThat(done.status()).isEqualTo(MediaTask.SUCCEEDED);
        assertThat(done.cost()).isEqualByComparingTo("3");
        assertThat(done.resultJson()).contains("video_url");
        assertThat(reserved(f)).isEqualByComparingTo("1");                 // the lease's rest
        assertThat(number("SELECT balance FROM accounts WHERE id = '" + f.accountId() + "'")).isEqualByComparingTo("7");
        assertThat(number("SELECT count(*) FROM ledger WHERE request_id = 'req_t1' AND kind = 'settlement'")).isEqualByComparingTo("1");
        assertThat(number("SELECT credits FROM request_log WHERE request_id = 'req_t1'")).isEqualByComparingTo("3");
        assertThat(number("SELECT credit_used FROM api_keys WHERE id = '" + f.keyId() + "'")).isEqualByComparingTo("3");
    }

    @Test
    void aCostAboveTheReservationIsHeldToIt() throws Exception {
        Funded f = fund("10", null);
        tasks.open(video("t-cap", f, "4", "2"), "px_none", null);
        assertThat(reserved(f)).isEqualByComparingTo("2");                 // no lease: from the account directly
        tasks.finish("t-cap", true, new BigDecimal("50"), new BigDecimal("4"), null, null);
        assertThat(tasks.get("t-cap").cost()).isEqualByComparingTo("2");
        assertThat(number("SELECT balance FROM accounts WHERE id = '" + f.accountId() + "'")).isEqualByComparingTo("8");
    }

    @Test
    void aFailedTaskReleasesEverythingAndChargesNothing() throws Exception {
        Funded f = fund("10", null);
        tasks.open(video("t-fail", f, "8", "4"), "px_none", 2);
        assertThat(tasks.finish("t-fail", false, null, null, null, "upstream said no")).isTrue();
        assertThat(reserved(f)).isZero();
        assertThat(number("SELECT balance FROM accounts WHERE id = '" + f.accountId() + "'")).isEqualByComparingTo("10");
        assertThat(number("SELECT count(*) FROM ledger WHERE account_id = '" + f.accountId() + "' AND kind = 'settlement'")).isZero();
        assertThat(tasks.get("t-fail").error()).isEqualTo("upstream said no");
    }

    @Test
    void theAccountsUnfinishedVideoTasksAreCounted() throws Exception {
        Funded f = fund("100", null);
        assertThat(tasks.open(video("c1", f, "1", "1"), "px_none", 2)).isEqualTo(TaskStore.Open.OPENED);
        assertThat(tasks.open(video("c2", f, "1", "1"), "px_none", 2)).isEqualTo(TaskStore.Open.OPENED);
        assertThat(tasks.open(video("c3", f, "1", "1"), "px_none", 2)).isEqualTo(TaskStore.Open.TOO_MANY_TASKS);
        assertThat(reserved(f)).isEqualByComparingTo("2");                 // the refused one reserved nothing
        tasks.finish("c1", false, null, null, null, "x");
        assertThat(tasks.open(video("c3", f, "1", "1"), "px_none", 2)).isEqualTo(TaskStore.Open.OPENED);
        // Image tasks do not count against the video limit.
        assertThat(tasks.open(new TaskStore.NewTask("i1", MediaTask.IMAGE, "req_i1", f.accountId(), f.keyId(), "img", "ups_1",
                "up-img", BigDecimal.ONE, null, BigDecimal.ONE, BigDecimal.ONE), "px_none", null)).isEqualTo(TaskStore.Open.OPENED);
    }

    @Test
    void whatTheLeaseLacksMustBeCoveredByTheAccountAndTheKey() throws Exception {
        Funded poor = fund("3", null);
        assertThat(tasks.open(video("p1", poor, "8", "4"), "px_none", 2)).isEqualTo(TaskStore.Open.INSUFFICIENT_CREDITS);
        Funded limited = fund("100", new BigDecimal("3"));
        assertThat(tasks.open(video("p2", limited, "8", "4"), "px_none", 2)).isEqualTo(TaskStore.Open.KEY_CREDIT_LIMIT);
        // With a lease holding part of it, only the rest needs room.
        billing.growLease("px_b", poor.keyId(), poor.accountId(), new BigDecimal("2"), new BigDecimal("2"), 60);
        assertThat(tasks.open(video("p3", poor, "8", "3"), "px_b", 2)).isEqualTo(TaskStore.Open.OPENED);
        assertThat(reserved(poor)).isEqualByComparingTo("3");
        assertThat(number("SELECT count(*) FROM media_tasks WHERE id IN ('p1', 'p2')")).isZero();
    }

    @Test
    void manyConcurrentFinishesSettleOnce() throws Exception {
        Funded f = fund("10", null);
        tasks.open(video("race", f, "8", "4"), "px_none", 2);
        tasks.accepted("race", "up-race", MediaTask.RUNNING, submitRow("req_race", f));
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Callable<Boolean>> finishers = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                boolean succeed = i % 3 != 0;
                finishers.add(() -> tasks.finish("race", succeed, new BigDecimal("4"), new BigDecimal("8"), null,
                        succeed ? null : "failed"));
            }
            int won = 0;
            for (Future<Boolean> r : pool.invokeAll(finishers)) {
                won += r.get() ? 1 : 0;
            }
            assertThat(won).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(reserved(f)).isZero();
        BigDecimal charged = number("SELECT coalesce(-sum(amount), 0) FROM ledger WHERE account_id = '" + f.accountId()
                + "' AND kind = 'settlement'");
        assertThat(charged).isEqualByComparingTo(tasks.get("race").cost());
        assertThat(number("SELECT balance FROM accounts WHERE id = '" + f.accountId() + "'"))
                .isEqualByComparingTo(new BigDecimal("10").subtract(charged));
    }

    @Test
    void pollsClaimAskingTheUpstreamOncePerInterval() throws Exception {
        Funded f = fund("10", null);
        Funded other = fund("10", null);
        tasks.open(video("claim", f, "8", "4"), "px_none", 2);
        assertThat(tasks.claim("claim", MediaTask.VIDEO, f.accountId(), Duration.ZERO).claimed()).isFalse(); // not accepted yet
        tasks.accepted("claim", "up-claim", MediaTask.QUEUED, submitRow("req_claim", f));

        assertThat(tasks.claim("claim", MediaTask.VIDEO, other.accountId(), Duration.ZERO)).isNull();
        assertThat(tasks.claim("claim", MediaTask.IMAGE, f.accountId(), Duration.ZERO)).isNull();
        assertThat(tasks.claim("claim", MediaTask.VIDEO, f.accountId(), Duration.ofMinutes(1)).claimed()).isFalse();
        assertThat(tasks.claim("claim", MediaTask.VIDEO, f.accountId(), Duration.ZERO).claimed()).isTrue();
        assertThat(tasks.claimStale(Duration.ofMinutes(1), 10)).extracting(MediaTask::id).doesNotContain("claim");
        assertThat(tasks.claimStale(Duration.ZERO, 1000)).extracting(MediaTask::id).contains("claim");
        tasks.finish("claim", false, null, null, null, "x");
        assertThat(tasks.claim("claim", MediaTask.VIDEO, f.accountId(), Duration.ZERO).claimed()).isFalse();   // finished
    }
}
