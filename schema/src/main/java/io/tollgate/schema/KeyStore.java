package io.tollgate.schema;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** API keys: issued here with their secret shown once, stored as a hash and a prefix. */
public final class KeyStore {

    private static final String COLUMNS = "id, account_id, name, key_hash, prefix, status, models, credit_limit,"
            + " credit_used, credit_reserved, expires_at, rate_limits::text AS rate_limits, created_at";

    private final DataSource ds;

    public KeyStore(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    /** A new key and its plaintext, which exists nowhere else. */
    public record Created(ApiKey key, String plaintext) {
    }

    /** The account already holds its maximum of active and paused keys. */
    public static final class KeyLimitReachedException extends RuntimeException {

        public KeyLimitReachedException(String message) {
            super(message);
        }
    }

    /**
     * Changes to a key. A null {@code name}, {@code status} or {@code rateLimits} leaves the field as it is
     * ({@link RateLimits#NONE} clears the overrides); the nullable fields change only when their
     * {@code *Set} flag is true, so they can be set to null.
     */
    public record Patch(
            String name,
            String status,
            List<String> models,
            boolean modelsSet,
            BigDecimal creditLimit,
            boolean creditLimitSet,
            Instant expiresAt,
            boolean expiresAtSet,
            RateLimits rateLimits) {
    }

    /**
     * Issues a key, holding the account's row lock while counting its active and paused keys,
     * so concurrent creates never exceed {@code maxActiveKeys}.
     *
     * @throws NotFoundException         when the account does not exist
     * @throws KeyLimitReachedException  when the account already holds {@code maxActiveKeys} keys
     */
    public Created create(String accountId, String name, List<String> models, BigDecimal creditLimit,
                          Instant expiresAt, RateLimits rateLimits, int maxActiveKeys) {
        Objects.requireNonNull(accountId, "accountId");
        String plaintext = ApiKeySecrets.generate();
        String id = Ids.newId("key");
        ApiKey key = Jdbc.inTransaction(ds, "create key", c -> {
            if (!AccountStore.lockAccount(c, accountId)) {
                throw new NotFoundException("account " + accountId + " does not exist");
            }
            int held = countHeldKeys(c, accountId);
            if (held >= maxActiveKeys) {
                throw new KeyLimitReachedException(
                        "account " + accountId + " already has " + held + " active or paused keys (max " + maxActiveKeys + ")");
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO api_keys (id, account_id, name, key_hash, prefix, models, credit_limit, expires_at, rate_limits)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb)) RETURNING " + COLUMNS)) {
                ps.setString(1, id);
                ps.setString(2, accountId);
                ps.setString(3, name);
                ps.setString(4, ApiKeySecrets.hash(plaintext));
                ps.setString(5, ApiKeySecrets.prefix(plaintext));
                Jdbc.setTextArray(c, ps, 6, models);
                ps.setBigDecimal(7, creditLimit);
                Jdbc.setInstant(ps, 8, expiresAt);
                ps.setString(9, RateLimitsJson.write(rateLimits));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return map(rs);
                }
            }
        });
        return new Created(key, plaintext);
    }

    public Optional<ApiKey> find(String id) {
        return findOne("id", id);
    }

    /** The key whose secret hashes to {@code keyHash} (see {@link ApiKeySecrets#hash}). */
    public Optional<ApiKey> findByHash(String keyHash) {
        return findOne("key_hash", keyHash);
    }

    /** Every key of the account, revoked ones included, newest first. */
    public List<ApiKey> listByAccount(String accountId) {
        return list("SELECT " + COLUMNS + " FROM api_keys WHERE account_id = ? ORDER BY created_at DESC, id DESC", accountId);
    }

    /** Every key that is not revoked: what a proxy loads into its cache. */
    public List<ApiKey> listUsable() {
        return list("SELECT " + COLUMNS + " FROM api_keys WHERE status <> 'revoked' ORDER BY id", null);
    }

    /**
     * Applies {@code patch}; empty when the key is unknown.
     *
     * @throws IllegalStateException    when the key is revoked (revocation is final)
     * @throws IllegalArgumentException when the status is not active or paused
     */
    public Optional<ApiKey> update(String id, Patch patch) {
        Objects.requireNonNull(patch, "patch");
        if (patch.status() != null && !ApiKey.ACTIVE.equals(patch.status()) && !ApiKey.PAUSED.equals(patch.status())) {
            throw new IllegalArgumentException("status must be active or paused, was " + patch.status());
        }
        return Jdbc.inTransaction(ds, "update key", c -> {
            String status;
            try (PreparedStatement ps = c.prepareStatement("SELECT status FROM api_keys WHERE id = ? FOR UPDATE")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    status = rs.getString(1);
                }
            }
            if (ApiKey.REVOKED.equals(status)) {
                throw new IllegalStateException("key " + id + " is revoked and cannot be changed");
            }
            return Optional.of(applyPatch(c, id, patch));
        });
    }

    /** Revokes the key for good; revoking twice keeps the first time. False when the key is unknown. */
    public boolean revoke(String id) {
        return Jdbc.withConnection(ds, "revoke key", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE api_keys SET status = 'revoked', revoked_at = COALESCE(revoked_at, now()) WHERE id = ?")) {
                ps.setString(1, id);
                return ps.executeUpdate() > 0;
            }
        });
    }

    private static int countHeldKeys(Connection c, String accountId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM api_keys WHERE account_id = ? AND status IN ('active', 'paused')")) {
            ps.setString(1, accountId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static ApiKey applyPatch(Connection c, String id, Patch patch) throws SQLException {
        List<String> sets = new ArrayList<>();
        if (patch.name() != null) {
            sets.add("name = ?");
        }
        if (patch.status() != null) {
            sets.add("status = ?");
        }
        if (patch.modelsSet()) {
            sets.add("models = ?");
        }
        if (patch.creditLimitSet()) {
            sets.add("credit_limit = ?");
        }
        if (patch.expiresAtSet()) {
            sets.add("expires_at = ?");
        }
        if (patch.rateLimits() != null) {
            sets.add("rate_limits = CAST(? AS jsonb)");
        }
        String sql = sets.isEmpty()
                ? "SELECT " + COLUMNS + " FROM api_keys WHERE id = ?"
                : "UPDATE api_keys SET " + String.join(", ", sets) + " WHERE id = ? RETURNING " + COLUMNS;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (patch.name() != null) {
                ps.setString(i++, patch.name());
            }
            if (patch.status() != null) {
                ps.setString(i++, patch.status());
            }
            if (patch.modelsSet()) {
                Jdbc.setTextArray(c, ps, i++, patch.models());
            }
            if (patch.creditLimitSet()) {
                ps.setBigDecimal(i++, patch.creditLimit());
            }
            if (patch.expiresAtSet()) {
                Jdbc.setInstant(ps, i++, patch.expiresAt());
            }
            if (patch.rateLimits() != null) {
                ps.setString(i++, RateLimitsJson.write(patch.rateLimits()));
            }
            ps.setString(i, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return map(rs);
            }
        }
    }

    private Optional<ApiKey> findOne(String column, String value) {
        return Jdbc.withConnection(ds, "find key", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM api_keys WHERE " + column + " = ?")) {
                ps.setString(1, value);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(map(rs)) : Optional.empty();
                }
            }
        });
    }

    private List<ApiKey> list(String sql, String param) {
        return Jdbc.withConnection(ds, "list keys", c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                if (param != null) {
                    ps.setString(1, param);
                }
                List<ApiKey> keys = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        keys.add(map(rs));
                    }
                }
                return keys;
            }
        });
    }

    private static ApiKey map(ResultSet rs) throws SQLException {
        return new ApiKey(
                rs.getString("id"),
                rs.getString("account_id"),
                rs.getString("name"),
                rs.getString("key_hash"),
                rs.getString("prefix"),
                rs.getString("status"),
                Jdbc.textList(rs, "models"),
                rs.getBigDecimal("credit_limit"),
                rs.getBigDecimal("credit_used"),
                rs.getBigDecimal("credit_reserved"),
                Jdbc.instant(rs, "expires_at"),
                RateLimitsJson.read(rs.getString("rate_limits")),
                Jdbc.instant(rs, "created_at"));
    }
}
