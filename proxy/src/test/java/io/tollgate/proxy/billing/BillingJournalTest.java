package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore;
import io.tollgate.schema.RequestLogEntry;
import io.tollgate.schema.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The outcome writer with its journal, against a database a test switches off: outcomes reach the
 * journal while the database is away, are applied once when it answers, and a proxy closed
 * meanwhile leaves them to the next one.
 */
class BillingJournalTest {

    private static TestDatabase db;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        db = TestDatabase.create();
    }

    @AfterAll
    static void stop() {
        db.close();
    }

    private static RequestLogEntry entry(String requestId) {
        return new RequestLogEntry(requestId, null, null, "m", "/v1/chat/completions", 503, "service_unavailable",
                1, null, null, null, BigDecimal.ZERO, null, Instant.now());
    }

    private static long logged(String prefix) throws Exception {
        try (Connection c = db.database().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM request_log WHERE request_id LIKE ?")) {
            ps.setString(1, prefix + "%");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private Billing billing(CreditLeasesOutageTest.Switch source, Path journal) {
        return new Billing(new BillingStore(source), 1, "px_" + System.nanoTime(),
                BillingConfig.defaults().withJournalDir(journal));
    }

    @Test
    void outcomesAreJournaledWhileTheDatabaseIsAwayAndAppliedOnceItAnswers() throws Exception {
        var source = new CreditLeasesOutageTest.Switch(db.database().dataSource());
        source.down = true;
        try (Billing billing = billing(source, dir)) {
            for (int i = 0; i < 50; i++) {
                billing.finish(null, null, BigDecimal.ZERO, entry("req_away_" + i));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> Journal.read(dir).size() == 50);
            assertThat(billing.pending()).isEqualTo(50);
            assertThat(logged("req_away_")).isZero();

            source.down = false;
            await().atMost(Duration.ofSeconds(10)).until(() -> billing.pending() == 0);
            assertThat(logged("req_away_")).isEqualTo(50);
        }
    }

    @Test
    void aProxyClosedWhileTheDatabaseIsAwayLeavesItsOutcomesToTheNext() throws Exception {
        var source = new CreditLeasesOutageTest.Switch(db.database().dataSource());
        source.down = true;
        Billing first = billing(source, dir);
        for (int i = 0; i < 10; i++) {
            first.finish(null, null, BigDecimal.ZERO, entry("req_left_" + i));
        }
        long closing = System.nanoTime();
        first.close();
        // With a journal, close does not wait out the drain timeout for a database that is away.
        assertThat(Duration.ofNanos(System.nanoTime() - closing)).isLessThan(Duration.ofSeconds(5));
        assertThat(Journal.read(dir)).hasSize(10);

        source.down = false;
        try (Billing next = billing(source, dir)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> next.pending() == 0);
        }
        assertThat(logged("req_left_")).isEqualTo(10);
        assertThat(Journal.read(dir)).isEmpty();
    }

    @Test
    void aSteadyStreamIsWrittenEveryGroupAndSyncedAtMostEverySyncInterval() throws Exception {
        var source = new CreditLeasesOutageTest.Switch(db.database().dataSource());
        try (Billing billing = billing(source, dir)) {
            Journal journal = billing.journalOnDisk();
            long start = System.nanoTime();
            int sent = 0;
            // One outcome a millisecond for 400 ms, paced by the clock, as requests finish.
            while (System.nanoTime() - start < Duration.ofMillis(400).toNanos()) {
                billing.finish(null, null, BigDecimal.ZERO, entry("req_steady_" + sent++));
                java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(1).toNanos());
            }
            long elapsed = System.nanoTime() - start;
            long syncs = journal.syncs();
            long writes = journal.appends();
            assertThat(syncs).as("syncs in %d ms", elapsed / 1_000_000).isBetween(1L, elapsed / Billing.SYNC_NANOS + 1);
            assertThat(writes).as("group commits: several to a sync").isGreaterThan(3 * syncs);

            // Once the stream stops, the last of it is written and, within an interval, synced.
            int total = sent;
            await().atMost(Duration.ofSeconds(2)).until(() -> Journal.read(dir).size() == total && !journal.unsynced());
            assertThat(journal.syncs()).isGreaterThan(syncs);
            await().atMost(Duration.ofSeconds(10)).until(() -> billing.pending() == 0);
            assertThat(logged("req_steady_")).isEqualTo(total);
        }
    }

    @Test
    void withoutAJournalOutcomesWaitInMemoryThroughAnOutage() throws Exception {
        var source = new CreditLeasesOutageTest.Switch(db.database().dataSource());
        source.down = true;
        try (Billing billing = billing(source, null)) {
            for (int i = 0; i < 20; i++) {
                billing.finish(null, null, BigDecimal.ZERO, entry("req_mem_" + i));
            }
            assertThat(billing.pending()).isEqualTo(20);
            source.down = false;
            await().atMost(Duration.ofSeconds(10)).until(() -> billing.pending() == 0);
        }
        assertThat(logged("req_mem_")).isEqualTo(20);
    }
}
