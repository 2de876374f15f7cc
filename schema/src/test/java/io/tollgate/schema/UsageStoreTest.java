package io.tollgate.schema;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

class UsageStoreTest {

    private static final Instant NOV_24 = Instant.parse("2026-11-24T00:00:00Z");
    private static final Instant NOV_25 = Instant.parse("2026-11-25T00:00:00Z");
    private static final Instant NOV_26 = Instant.parse("2026-11-26T00:00:00Z");

    private static TestDatabase db;
    private static UsageStore usage;

    /**
     * acct_a on 24 and 25 November 2026 with demo-chat, gpt-5 and one row without a model; a row just
     * before the 24th and one exactly at the 26th; acct_b's and an anonymous row on the same days.
     */
    @BeforeAll
    static void setUp() throws Exception {
        db = TestDatabase.create();
        usage = new UsageStore(db.database().dataSource());
        try (Connection c = DriverManager.getConnection(db.url());
             PreparedStatement ps = c.prepareStatement("""
                     INSERT INTO request_log (request_id, account_id, key_id, model, endpoint, status, input_tokens,
                                              output_tokens, credits, created_at)
                     VALUES (?, ?, 'key_1', ?, '/v1/chat/completions', ?, ?, ?, ?, ?)""")) {
            insert(ps, "r01", "acct_a", "demo-chat", 200, 10L, 20L, "0.000030", "2026-11-24T00:00:00Z");
            insert(ps, "r02", "acct_a", "demo-chat", 200, 5L, 5L, "0.000010", "2026-11-24T23:59:59.999999Z");
            insert(ps, "r03", "acct_a", "gpt-5", 200, 100L, 200L, "1.5", "2026-11-24T12:00:00Z");
            insert(ps, "r04", "acct_a", "demo-chat", 429, null, null, "0", "2026-11-25T08:00:00Z");
            insert(ps, "r05", "acct_a", "demo-chat", 200, 1L, 2L, "0.000003", "2026-11-25T09:00:00Z");
            insert(ps, "r06", "acct_a", null, 400, null, null, "0", "2026-11-25T10:00:00Z");
            insert(ps, "r07", "acct_a", "gpt-5", 502, 7L, null, "0.25", "2026-11-25T23:00:00Z");
            insert(ps, "r08", "acct_a", "demo-chat", 200, 1000L, 1000L, "9", "2026-11-23T23:59:59.999999Z");
            insert(ps, "r09", "acct_a", "demo-chat", 200, 1000L, 1000L, "9", "2026-11-26T00:00:00Z");
            insert(ps, "r10", "acct_b", "demo-chat", 200, 1000L, 1000L, "9", "2026-11-24T10:00:00Z");
            insert(ps, "r11", null, "demo-chat", 401, null, null, "0", "2026-11-25T10:00:00Z");
        }
    }

    private static void insert(PreparedStatement ps, String id, String account, String model, int status,
                               Long input, Long output, String credits, String at) throws Exception {
        ps.setString(1, id);
        ps.setString(2, account);
        ps.setString(3, model);
        ps.setInt(4, status);
        setLong(ps, 5, input);
        setLong(ps, 6, output);
        ps.setBigDecimal(7, new BigDecimal(credits));
        ps.setObject(8, OffsetDateTime.ofInstant(Instant.parse(at), ZoneOffset.UTC));
        ps.executeUpdate();
    }

    private static void setLong(PreparedStatement ps, int index, Long value) throws Exception {
        if (value == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, value);
        }
    }

    @AfterAll
    static void tearDown() {
        db.close();
    }

    private static UsageRow row(String date, String model, long requests, long successful, long input, long output,
                                String credits) {
        return new UsageRow(LocalDate.parse(date), model, requests, successful, input, output, new BigDecimal(credits));
    }

    /** Compares credits by value: the database answers them with 12 decimal places. */
    private static void assertRows(List<UsageRow> actual, UsageRow... expected) {
        assertThat(actual).usingRecursiveFieldByFieldElementComparator(
                        RecursiveComparisonConfiguration.builder()
                                .withComparatorForType(BigDecimal::compareTo, BigDecimal.class).build())
                .containsExactly(expected);
    }

    @Test
    void sumsPerDayAndModelInOrderWithTheNullModelLast() {
        assertRows(usage.daily("acct_a", NOV_24, NOV_26),
                row("2026-11-24", "demo-chat", 2, 2, 15, 25, "0.00004"),
                row("2026-11-24", "gpt-5", 1, 1, 100, 200, "1.5"),
                row("2026-11-25", "demo-chat", 2, 1, 1, 2, "0.000003"),
                row("2026-11-25", "gpt-5", 1, 0, 7, 0, "0.25"),
                row("2026-11-25", null, 1, 0, 0, 0, "0"));
    }

    @Test
    void fromIsInclusiveAndToExclusive() {
        assertRows(usage.daily("acct_a", Instant.parse("2026-11-24T12:00:00Z"), Instant.parse("2026-11-25T09:00:00Z")),
                row("2026-11-24", "demo-chat", 1, 1, 5, 5, "0.00001"),
                row("2026-11-24", "gpt-5", 1, 1, 100, 200, "1.5"),
                row("2026-11-25", "demo-chat", 1, 0, 0, 0, "0"));
        // Exactly one microsecond around the day's edges.
        assertRows(usage.daily("acct_a", Instant.parse("2026-11-23T23:59:59.999999Z"), NOV_24),
                row("2026-11-23", "demo-chat", 1, 1, 1000, 1000, "9"));
        assertRows(usage.daily("acct_a", NOV_26, Instant.parse("2026-11-26T00:00:00.000001Z")),
                row("2026-11-26", "demo-chat", 1, 1, 1000, 1000, "9"));
    }

    @Test
    void anEmptyRangeOrAnUnknownAccountHasNoRows() {
        assertThat(usage.daily("acct_a", NOV_25, NOV_25)).isEmpty();
        assertThat(usage.daily("acct_none", NOV_24, NOV_26)).isEmpty();
        assertThatThrownBy(() -> usage.daily("acct_a", NOV_26, NOV_25)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void otherAccountsAreIgnored() {
        assertRows(usage.daily("acct_b", NOV_24, NOV_26), row("2026-11-24", "demo-chat", 1, 1, 1000, 1000, "9"));
    }

    /** +14:00 puts 24 November 12:00 UTC on the 25th locally; the days must still be UTC's. */
    @Test
    void daysAreUtcWhateverTheSessionTimeZone() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.url());
        config.setMaximumPoolSize(1);
        config.setConnectionInitSql("SET TIME ZONE 'Pacific/Kiritimati'");
        try (HikariDataSource kiritimati = new HikariDataSource(config)) {
            assertThat(new UsageStore(kiritimati).daily("acct_a", NOV_24, NOV_26))
                    .extracting(UsageRow::date, UsageRow::model, UsageRow::requests)
                    .containsExactly(
                            tuple(LocalDate.parse("2026-11-24"), "demo-chat", 2L),
                            tuple(LocalDate.parse("2026-11-24"), "gpt-5", 1L),
                            tuple(LocalDate.parse("2026-11-25"), "demo-chat", 2L),
                            tuple(LocalDate.parse("2026-11-25"), "gpt-5", 1L),
                            tuple(LocalDate.parse("2026-11-25"), null, 1L));
        }
    }
}
