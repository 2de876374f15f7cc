package io.tollgate.schema;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Accounts and the credit movements an admin makes on them. */
public final class AccountStore {

    public static final String KIND_TOPUP = "topup";
    public static final String KIND_ADJUSTMENT = "adjustment";

    private static final String COLUMNS = "id, name, tier, status, balance, reserved, created_at";

    private final DataSource ds;

    public AccountStore(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    /** The outcome of {@link #credit}: the ledger entry and the balance right after it. */
    public record Credit(String entryId, BigDecimal balance, boolean created) {
    }

    /** A new active account with a zero balance. */
    public Account create(String name, String tier) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tier, "tier");
        String id = Ids.newId("acct");
        return Jdbc.withConnection(ds, "create account", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO accounts (id, name, tier) VALUES (?, ?, ?) RETURNING " + COLUMNS)) {
                ps.setString(1, id);
                ps.setString(2, name);
                ps.setString(3, tier);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return map(rs);
                }
            }
        });
    }

    public Optional<Account> find(String id) {
        return Jdbc.withConnection(ds, "find account", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM accounts WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(map(rs)) : Optional.empty();
                }
            }
        });
    }

    /** Every account, for caches that load them all at once. */
    public List<Account> list() {
        return Jdbc.withConnection(ds, "list accounts", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM accounts ORDER BY id");
                 ResultSet rs = ps.executeQuery()) {
                List<Account> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(map(rs));
                }
                return out;
            }
        });
    }

    /** Changes the given fields; a null argument leaves its field as it is. Empty when the account is unknown. */
    public Optional<Account> update(String id, String name, String tier, String status) {
        return Jdbc.withConnection(ds, "update account", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE accounts SET name = COALESCE(?, name), tier = COALESCE(?, tier), status = COALESCE(?, status)"
                            + " WHERE id = ? RETURNING " + COLUMNS)) {
                ps.setString(1, name);
                ps.setString(2, tier);
                ps.setString(3, status);
                ps.setString(4, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(map(rs)) : Optional.empty();
                }
            }
        });
    }

    /**
     * Adds {@code amount} to the balance and writes one ledger row, in one transaction.
     * A {@code topup} must be positive; an {@code adjustment} may be negative but not zero.
     * A repeated non-null {@code idempotencyKey} for the same account changes nothing and
     * answers the first entry (and the balance right after it) with {@code created=false}.
     *
     * @throws NotFoundException when the account does not exist
     */
    public Credit credit(String accountId, BigDecimal amount, String kind, String reason, String idempotencyKey) {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(amount, "amount");
        if (KIND_TOPUP.equals(kind)) {
            if (amount.signum() <= 0) {
                throw new IllegalArgumentException("a topup must be positive, was " + amount);
            }
        } else if (KIND_ADJUSTMENT.equals(kind)) {
            if (amount.signum() == 0) {
                throw new IllegalArgumentException("an adjustment must not be zero");
            }
        } else {
            throw new IllegalArgumentException("kind must be topup or adjustment, was " + kind);
        }
        return Jdbc.inTransaction(ds, "credit account", c -> {
            // The row lock serialises credits of one account, so a repeated idempotency key
            // always finds the first entry committed (READ COMMITTED re-reads after the lock).
            if (!lockAccount(c, accountId)) {
                throw new NotFoundException("account " + accountId + " does not exist");
            }
            if (idempotencyKey != null) {
                Optional<Credit> earlier = findByIdempotencyKey(c, accountId, idempotencyKey);
                if (earlier.isPresent()) {
                    return earlier.get();
                }
            }
            BigDecimal balance;
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE accounts SET balance = balance + ? WHERE id = ? RETURNING balance")) {
                ps.setBigDecimal(1, amount);
                ps.setString(2, accountId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    balance = rs.getBigDecimal(1);
                }
            }
            String entryId = Ids.timeOrderedId("le");
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO ledger (entry_id, account_id, kind, amount, balance_after, reason, idempotency_key)
                    VALUES (?, ?, ?, ?, ?, ?, ?)""")) {
                ps.setString(1, entryId);
                ps.setString(2, accountId);
                ps.setString(3, kind);
                ps.setBigDecimal(4, amount);
                ps.setBigDecimal(5, balance);
                ps.setString(6, reason);
                ps.setString(7, idempotencyKey);
                ps.executeUpdate();
            }
            return new Credit(entryId, balance, true);
        });
    }

    /** Locks the account row for the rest of the transaction; false when it does not exist. */
    static boolean lockAccount(Connection c, String accountId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM accounts WHERE id = ? FOR UPDATE")) {
            ps.setString(1, accountId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static Optional<Credit> findByIdempotencyKey(Connection c, String accountId, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT entry_id, balance_after FROM ledger WHERE account_id = ? AND idempotency_key = ?")) {
            ps.setString(1, accountId);
            ps.setString(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new Credit(rs.getString("entry_id"), rs.getBigDecimal("balance_after"), false))
                        : Optional.empty();
            }
        }
    }

    private static Account map(ResultSet rs) throws SQLException {
        return new Account(
                rs.getString("id"),
                rs.getString("name"),
                rs.getString("tier"),
                rs.getString("status"),
                rs.getBigDecimal("balance"),
                rs.getBigDecimal("reserved"),
                Jdbc.instant(rs, "created_at"));
    }
}
