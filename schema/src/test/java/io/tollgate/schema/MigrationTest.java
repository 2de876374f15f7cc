package io.tollgate.schema;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Upgrading a database that already holds money and requests. */
class MigrationTest {

    @Test
    void theAscendingIndexesAreBuiltOnAPopulatedDatabaseAndReadsStayNewestFirst() throws Exception {
        try (TestDatabase db = TestDatabase.createEmpty()) {
            var ds = db.database().dataSource();
            Flyway.configure().dataSource(ds).locations("classpath:db/migration").target("7").load().migrate();
            AccountStore accounts = new AccountStore(ds);
            Account a = accounts.create("before-v8", "pro");
            for (String amount : List.of("1", "2", "3")) {
                accounts.credit(a.id(), new BigDecimal(amount), "topup", "t", null);
            }
            String key = new KeyStore(ds).create(a.id(), "k", null, null, null, RateLimits.NONE, 3).key().id();
            Instant t = Instant.parse("2026-12-01T00:00:00Z");
            List<BillingStore.Outcome> outcomes = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                outcomes.add(new BillingStore.Outcome(null, BigDecimal.ZERO, new RequestLogEntry("req_v8_" + i, a.id(), key,
                        "m", "/chat/completions", 200, null, 1, 1, 1L, 1L, BigDecimal.ZERO, null, t.plusSeconds(i))));
            }
            new BillingStore(ds).apply(outcomes);

            assertThat(db.database().migrate().migrationsExecuted).isEqualTo(1);

            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("""
                         SELECT i.relname, x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                          WHERE x.indrelid IN ('ledger'::regclass, 'request_log'::regclass) ORDER BY 1""")) {
                List<String> indexes = new ArrayList<>();
                while (rs.next()) {
                    assertThat(rs.getBoolean(2)).as("%s is valid", rs.getString(1)).isTrue();
                    indexes.add(rs.getString(1));
                }
                assertThat(indexes).contains("ledger_account_seq", "request_log_account_time", "request_log_key_time")
                        .doesNotContain("ledger_account", "request_log_account", "request_log_key");
            }
            assertThat(new LedgerStore(ds).list(a.id(), 10)).extracting(e -> e.amount().stripTrailingZeros().toPlainString())
                    .containsExactly("3", "2", "1");
            assertThat(new RequestLogStore(ds).list(null, key, 10)).extracting(RequestLogEntry::requestId)
                    .containsExactly("req_v8_2", "req_v8_1", "req_v8_0");
        }
    }
}
