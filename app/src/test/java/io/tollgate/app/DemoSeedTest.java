package io.tollgate.app;

import io.tollgate.schema.ApiKeySecrets;
import io.tollgate.schema.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

class DemoSeedTest {

    private TestDatabase db;

    @TempDir
    Path dataDir;

    @BeforeEach
    void createDatabase() {
        db = TestDatabase.create();
    }

    @AfterEach
    void dropDatabase() {
        db.close();
    }

    @Test
    void seedingTwiceChangesNothing() throws Exception {
        DemoSeed.DemoKey first = DemoSeed.seed(db.database().dataSource(), dataDir);
        DemoSeed.DemoKey second = DemoSeed.seed(db.database().dataSource(), dataDir);

        assertThat(first.created()).isTrue();
        assertThat(second.created()).isFalse();
        assertThat(second.plaintext()).isEqualTo(first.plaintext()).startsWith(ApiKeySecrets.KEY_PREFIX);
        assertThat(count("SELECT count(*) FROM accounts WHERE id = 'acct_demo'")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM ledger WHERE account_id = 'acct_demo' AND kind = 'topup'")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM api_keys WHERE account_id = 'acct_demo'")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM upstreams WHERE id = 'ups_demo_mock'")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM models WHERE id = 'demo-chat'")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM model_routes WHERE model_id = 'demo-chat'")).isEqualTo(1);
        assertThat(decimal("SELECT balance FROM accounts WHERE id = 'acct_demo'")).isEqualByComparingTo("100");
        assertThat(decimal("SELECT balance_after FROM ledger WHERE account_id = 'acct_demo'")).isEqualByComparingTo("100");

        Path keyFile = dataDir.resolve("demo-key");
        assertThat(Files.readString(keyFile).strip()).isEqualTo(first.plaintext());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
    }

    @Test
    void theStoredKeyMatchesTheFileAndIsActive() throws Exception {
        String plaintext = DemoSeed.seed(db.database().dataSource(), dataDir).plaintext();

        try (Connection c = db.database().dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, prefix, status FROM api_keys WHERE key_hash = '"
                     + ApiKeySecrets.hash(plaintext) + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("id")).startsWith("key_");
            assertThat(rs.getString("prefix")).isEqualTo(ApiKeySecrets.prefix(plaintext));
            assertThat(rs.getString("status")).isEqualTo("active");
        }
    }

    @Test
    void theModelIsPricedAndRoutedToTheMockUpstream() throws Exception {
        DemoSeed.seed(db.database().dataSource(), dataDir);

        try (Connection c = db.database().dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("""
                     SELECT m.category, m.enabled, m.public, m.price_input_per_1m, m.price_output_per_1m,
                            m.price_per_request, m.max_output_tokens, r.upstream_model, u.provider, u.base_url
                     FROM models m JOIN model_routes r ON r.model_id = m.id JOIN upstreams u ON u.id = r.upstream_id
                     WHERE m.id = 'demo-chat'""")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("category")).isEqualTo("text");
            assertThat(rs.getBoolean("enabled")).isTrue();
            assertThat(rs.getBoolean("public")).isTrue();
            assertThat(rs.getBigDecimal("price_input_per_1m")).isEqualByComparingTo("1");
            assertThat(rs.getBigDecimal("price_output_per_1m")).isEqualByComparingTo("2");
            assertThat(rs.getBigDecimal("price_per_request")).isEqualByComparingTo("0.001");
            assertThat(rs.getInt("max_output_tokens")).isEqualTo(1024);
            assertThat(rs.getString("upstream_model")).isEqualTo("mock-model");
            assertThat(rs.getString("provider")).isEqualTo("mock");
            assertThat(rs.getString("base_url")).isEqualTo("http://mock.invalid/v1");
        }
    }

    @Test
    void aKeyFileUnknownToTheDatabaseIsReplaced() throws Exception {
        DemoSeed.seed(db.database().dataSource(), dataDir);
        Files.writeString(dataDir.resolve("demo-key"), "sk-tg-not-in-the-database\n");
        long keysBefore = count("SELECT count(*) FROM api_keys WHERE account_id = 'acct_demo'");

        DemoSeed.DemoKey key = DemoSeed.seed(db.database().dataSource(), dataDir);

        assertThat(key.created()).isTrue();
        assertThat(key.plaintext()).isNotEqualTo("sk-tg-not-in-the-database");
        assertThat(Files.readString(dataDir.resolve("demo-key")).strip()).isEqualTo(key.plaintext());
        assertThat(count("SELECT count(*) FROM api_keys WHERE account_id = 'acct_demo'")).isEqualTo(keysBefore + 1);
        assertThat(count("SELECT count(*) FROM ledger WHERE account_id = 'acct_demo' AND kind = 'topup'")).isEqualTo(1);
    }

    @Test
    void theCurlLineStreamsTheDemoModel() {
        assertThat(DemoSeed.curl("sk-tg-abc", 18080))
                .startsWith("curl -N http://localhost:18080/v1/chat/completions")
                .contains("Authorization: Bearer sk-tg-abc")
                .contains("\"model\":\"demo-chat\"")
                .contains("\"stream\":true");
    }

    private long count(String sql) throws SQLException {
        try (Connection c = db.database().dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private BigDecimal decimal(String sql) throws SQLException {
        try (Connection c = db.database().dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getBigDecimal(1);
        }
    }
}
