package io.tollgate.app;

import io.tollgate.schema.ApiKeySecrets;
import io.tollgate.schema.Ids;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * What {@code tollgate all --demo} puts in the database so a newcomer gets a streamed answer with
 * no setup: an account with credits, a model served by the built-in mock provider, and a key.
 * Running it again changes nothing. Plain JDBC: it needs nothing but the schema.
 */
public final class DemoSeed {

    public static final String ACCOUNT_ID = "acct_demo";
    public static final String UPSTREAM_ID = "ups_demo_mock";
    public static final String MODEL_ID = "demo-chat";
    public static final String KEY_FILE = "demo-key";
    public static final BigDecimal STARTING_CREDITS = new BigDecimal("100");
    /** Makes the first top-up happen once, whatever happened to the account since. */
    static final String TOPUP_IDEMPOTENCY_KEY = "demo-seed-topup";

    /** @param created whether this run made a new key (false: the one in the data dir was reused) */
    public record DemoKey(String plaintext, boolean created) {
    }

    private DemoSeed() {
    }

    /** Seeds the demo rows and returns the demo key, whose plaintext is kept in {@code dataDir/demo-key}. */
    public static DemoKey seed(DataSource dataSource, Path dataDir) {
        Path keyFile = dataDir.resolve(KEY_FILE);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                account(c);
                topUpOnce(c);
                upstream(c);
                model(c);
                Optional<String> kept = SecretFiles.read(keyFile).filter(k -> usable(c, k));
                String plaintext = kept.orElseGet(() -> newKey(c));
                c.commit();
                if (kept.isEmpty()) {
                    // After the commit: a key in the file always exists in the database.
                    SecretFiles.write(keyFile, plaintext);
                }
                return new DemoKey(plaintext, kept.isEmpty());
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot seed the demo data: " + e.getMessage(), e);
        }
    }

    /** A one-line curl that streams a chat answer from the demo model through the proxy. */
    public static String curl(String key, int proxyPort) {
        return "curl -N http://localhost:" + proxyPort + "/v1/chat/completions"
                + " -H 'Authorization: Bearer " + key + "' -H 'Content-Type: application/json'"
                + " -d '{\"model\":\"" + MODEL_ID + "\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hello, Tollgate!\"}]}'";
    }

    private static void account(Connection c) throws SQLException {
        update(c, """
                INSERT INTO accounts (id, name, tier) VALUES (?, 'Demo', 'pro')
                ON CONFLICT (id) DO NOTHING""", ACCOUNT_ID);
    }

    private static void topUpOnce(Connection c) throws SQLException {
        // The account row lock orders concurrent seeders; the unique idempotency index backs it up.
        try (PreparedStatement lock = c.prepareStatement("SELECT 1 FROM accounts WHERE id = ? FOR UPDATE")) {
            lock.setString(1, ACCOUNT_ID);
            lock.executeQuery().close();
        }
        try (PreparedStatement done = c.prepareStatement(
                "SELECT 1 FROM ledger WHERE account_id = ? AND idempotency_key = ?")) {
            done.setString(1, ACCOUNT_ID);
            done.setString(2, TOPUP_IDEMPOTENCY_KEY);
            try (ResultSet rs = done.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
        }
        BigDecimal balance;
        try (PreparedStatement credit = c.prepareStatement(
                "UPDATE accounts SET balance = balance + ? WHERE id = ? RETURNING balance")) {
            credit.setBigDecimal(1, STARTING_CREDITS);
            credit.setString(2, ACCOUNT_ID);
            try (ResultSet rs = credit.executeQuery()) {
                rs.next();
                balance = rs.getBigDecimal(1);
            }
        }
        try (PreparedStatement entry = c.prepareStatement("""
                INSERT INTO ledger (entry_id, account_id, kind, amount, balance_after, reason, idempotency_key)
                VALUES (?, ?, 'topup', ?, ?, 'demo credits', ?)""")) {
            entry.setString(1, Ids.timeOrderedId("le"));
            entry.setString(2, ACCOUNT_ID);
            entry.setBigDecimal(3, STARTING_CREDITS);
            entry.setBigDecimal(4, balance);
            entry.setString(5, TOPUP_IDEMPOTENCY_KEY);
            entry.executeUpdate();
        }
    }

    private static void upstream(Connection c) throws SQLException {
        // The proxy serves provider "mock" itself and never contacts the host.
        update(c, """
                INSERT INTO upstreams (id, name, provider, base_url, api_key)
                VALUES (?, 'Demo mock', 'mock', 'http://mock.invalid/v1', 'mock')
                ON CONFLICT (id) DO NOTHING""", UPSTREAM_ID);
    }

    private static void model(Connection c) throws SQLException {
        update(c, """
                INSERT INTO models (id, display_name, category, capabilities, price_per_request,
                                    price_input_per_1m, price_output_per_1m, max_output_tokens, enabled, public)
                VALUES (?, 'Demo chat (mock)', 'text', '{chat,stream}', 0.001, 1, 2, 1024, true, true)
                ON CONFLICT (id) DO NOTHING""", MODEL_ID);
        try (PreparedStatement route = c.prepareStatement("""
                INSERT INTO model_routes (model_id, position, upstream_id, upstream_model)
                VALUES (?, 0, ?, 'mock-model')
                ON CONFLICT (model_id, position) DO NOTHING""")) {
            route.setString(1, MODEL_ID);
            route.setString(2, UPSTREAM_ID);
            route.executeUpdate();
        }
    }

    /** The kept key is reused only while it still works: present, the demo account's, active. */
    private static boolean usable(Connection c, String plaintext) {
        try (PreparedStatement q = c.prepareStatement(
                "SELECT 1 FROM api_keys WHERE key_hash = ? AND account_id = ? AND status = 'active'")) {
            q.setString(1, ApiKeySecrets.hash(plaintext));
            q.setString(2, ACCOUNT_ID);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot look up the demo key", e);
        }
    }

    private static String newKey(Connection c) {
        String plaintext = ApiKeySecrets.generate();
        try (PreparedStatement insert = c.prepareStatement("""
                INSERT INTO api_keys (id, account_id, name, key_hash, prefix)
                VALUES (?, ?, 'demo', ?, ?)""")) {
            insert.setString(1, Ids.newId("key"));
            insert.setString(2, ACCOUNT_ID);
            insert.setString(3, ApiKeySecrets.hash(plaintext));
            insert.setString(4, ApiKeySecrets.prefix(plaintext));
            insert.executeUpdate();
            return plaintext;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the demo key", e);
        }
    }

    private static void update(Connection c, String sql, String id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, id);
            s.executeUpdate();
        }
    }
}
