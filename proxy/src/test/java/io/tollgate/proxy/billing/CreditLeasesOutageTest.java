package io.tollgate.proxy.billing;

import io.tollgate.schema.Account;
import io.tollgate.schema.AccountStore;
import io.tollgate.schema.BillingStore;
import io.tollgate.schema.BillingStore.Reserve;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.RateLimits;
import io.tollgate.schema.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Credit leases while the database is away, against a data source a test can switch off: the
 * slices held are the whole allowance, for two thirds of the lease lifetime or the configured
 * outage allowance, and a slice swept meanwhile is not drawn on once the database is back.
 */
class CreditLeasesOutageTest {

    private static final BigDecimal PRICE = new BigDecimal("0.25");
    private static TestDatabase db;
    private static AccountStore accounts;
    private static KeyStore keys;
    private static ExecutorService blocking;
    private Switch source;
    private BillingStore store;

    /** The test database, unless switched off: then every connection attempt fails at once. */
    static final class Switch implements DataSource {
        final DataSource real;
        volatile boolean down;
        final AtomicInteger asked = new AtomicInteger();

        Switch(DataSource real) {
            this.real = real;
        }

        @Override
        public Connection getConnection() throws SQLException {
            asked.incrementAndGet();
            if (down) {
                throw new SQLException("connection refused (switched off)", "08001");
            }
            return real.getConnection();
        }

        @Override
        public Connection getConnection(String user, String password) throws SQLException {
            return getConnection();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }

    @BeforeAll
    static void start() {
        db = TestDatabase.create();
        accounts = new AccountStore(db.database().dataSource());
        keys = new KeyStore(db.database().dataSource());
        blocking = Executors.newFixedThreadPool(4);
    }

    @AfterAll
    static void stop() {
        blocking.shutdownNow();
        db.close();
    }

    @BeforeEach
    void freshSwitch() {
        source = new Switch(db.database().dataSource());
        store = new BillingStore(source);
    }

    private record Funded(String accountId, String keyId) {
    }

    private static Funded fund() {
        Account a = accounts.create("outage-" + System.nanoTime(), "pro");
        accounts.credit(a.id(), new BigDecimal("100"), "topup", "test", null);
        return new Funded(a.id(), keys.create(a.id(), "k", null, null, null, RateLimits.NONE, 3).key().id());
    }

    private Reserve reserve(CreditLeases leases, Funded f, BigDecimal amount) {
        return leases.reserve(f.accountId(), f.keyId(), amount).join();
    }

    private static void assertUnavailable(Runnable r) {
        assertThatThrownBy(r::run).isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(Billing.BillingUnavailableException.class);
    }

    @Test
    void theSlicesHeldServeUntilTwoThirdsOfTheLifetimeThen503() {
        Funded f = fund();
        CreditLeases leases = new CreditLeases(store, "px_slices", blocking, Duration.ofSeconds(3), Duration.ofSeconds(60));
        long grownAt = System.nanoTime();
        assertThat(reserve(leases, f, PRICE)).isEqualTo(Reserve.RESERVED);   // grows a slice of 16 × PRICE
        source.down = true;
        int asked = source.asked.get();

        assertThat(reserve(leases, f, PRICE)).isEqualTo(Reserve.RESERVED);
        leases.settle(f.keyId(), PRICE, BigDecimal.ZERO);
        assertThat(source.asked.get()).as("served from the slice, no database call").isEqualTo(asked);
        // Never more than the slice: what it cannot cover needs the database, which is away.
        assertUnavailable(() -> reserve(leases, f, PRICE.multiply(BigDecimal.valueOf(100))));

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
            try {
                reserve(leases, f, PRICE);
                leases.settle(f.keyId(), PRICE, BigDecimal.ZERO);   // the slice is not used up, only outlived
                return false;
            } catch (CompletionException e) {
                return e.getCause() instanceof Billing.BillingUnavailableException;
            }
        });
        assertThat(Duration.ofNanos(System.nanoTime() - grownAt)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void anAllowanceOfZeroRefusesFromTheFirstFailureUntilTheDatabaseAnswers() {
        Funded f = fund();
        CreditLeases leases = new CreditLeases(store, "px_zero", blocking, Duration.ofSeconds(60), Duration.ofSeconds(60),
                Duration.ZERO);
        assertThat(reserve(leases, f, PRICE)).isEqualTo(Reserve.RESERVED);
        source.down = true;
        assertThat(reserve(leases, f, PRICE)).as("nothing has failed yet").isEqualTo(Reserve.RESERVED);

        leases.maintain();                                  // the renewal fails: the outage is known
        assertUnavailable(() -> reserve(leases, f, PRICE));

        source.down = false;
        leases.maintain();                                  // it answers again
        assertThat(reserve(leases, f, PRICE)).isEqualTo(Reserve.RESERVED);
    }

    @Test
    void rightAfterAFailedCallReservationsThatNeedTheDatabaseFailWithoutAskingIt() {
        Funded f = fund();
        CreditLeases leases = new CreditLeases(store, "px_fast", blocking, Duration.ofSeconds(60), Duration.ofSeconds(60));
        source.down = true;
        assertUnavailable(() -> reserve(leases, f, PRICE));
        int asked = source.asked.get();
        for (int i = 0; i < 20; i++) {
            assertUnavailable(() -> reserve(leases, f, PRICE));
        }
        assertThat(source.asked.get()).isEqualTo(asked);
        // A second later the database is asked again, and when it is back that is all it takes.
        source.down = false;
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> reserve(leases, f, PRICE) == Reserve.RESERVED);
    }

    @Test
    void aSliceSweptDuringTheOutageIsNotDrawnOnAfterIt() throws Exception {
        Funded f = fund();
        CreditLeases leases = new CreditLeases(store, "px_swept", blocking, Duration.ofSeconds(60), Duration.ofSeconds(60));
        assertThat(reserve(leases, f, PRICE)).isEqualTo(Reserve.RESERVED);
        leases.settle(f.keyId(), PRICE, BigDecimal.ZERO);

        // Another proxy swept it while this one could not renew (here: by hand).
        try (Connection c = db.database().dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT tollgate_lease_shrink('px_swept', '" + f.keyId() + "', 1000)");
        }
        leases.maintain();
        int asked = source.asked.get();
        assertThat(reserve(leases, f, PRICE)).isEqualTo(Reserve.RESERVED);
        assertThat(source.asked.get()).as("the reservation had to grow a new slice").isGreaterThan(asked);
        try (Connection c = db.database().dataSource().getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT reserved FROM accounts WHERE id = '" + f.accountId() + "'")) {
            rs.next();
            assertThat(rs.getBigDecimal(1)).isPositive();  // the new slice is in the database's books
        }
    }

    @Test
    void givingBackReturnsTheWholeLeaseEvenWhenAGrowthRacedASpend() throws Exception {
        Funded f = fund();
        CreditLeases leases = new CreditLeases(store, "px_race", blocking, Duration.ofSeconds(60), Duration.ofSeconds(60));
        assertThat(reserve(leases, f, PRICE)).isEqualTo(Reserve.RESERVED);
        BigDecimal cost = new BigDecimal("0.1");
        leases.settle(f.keyId(), PRICE, cost);
        store.apply(java.util.List.of(new BillingStore.Outcome("px_race", cost, new io.tollgate.schema.RequestLogEntry(
                "req_race_1", f.accountId(), f.keyId(), "m", "/v1/chat/completions", 200, null, 1, 1, 1L, 1L, cost,
                null, java.time.Instant.now()))));
        // A growth now reports the database's total, which already lacks the spend ...
        BigDecimal big = PRICE.multiply(BigDecimal.valueOf(20));
        assertThat(reserve(leases, f, big)).isEqualTo(Reserve.RESERVED);
        leases.settle(f.keyId(), big, BigDecimal.ZERO);
        // ... and the writer's written() comes after it and takes it off once more.
        leases.written(f.keyId(), cost);

        leases.returnAll();
        try (Connection c = db.database().dataSource().getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT reserved, balance FROM accounts WHERE id = '" + f.accountId() + "'")) {
            rs.next();
            assertThat(rs.getBigDecimal(1)).isZero();
            assertThat(rs.getBigDecimal(2)).isEqualByComparingTo("99.9");
        }
    }
}
