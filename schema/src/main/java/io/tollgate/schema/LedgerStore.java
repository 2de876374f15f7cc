package io.tollgate.schema;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Reads the credit ledger; writes happen where the money moves ({@link AccountStore#credit}, settlement). */
public final class LedgerStore {

    private final DataSource ds;

    public LedgerStore(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    /** The account's latest {@code limit} entries, newest first. */
    public List<LedgerEntry> list(String accountId, int limit) {
        return Jdbc.withConnection(ds, "list ledger", c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT entry_id, account_id, kind, amount, balance_after, request_id, reason, created_at
                      FROM ledger WHERE account_id = ? ORDER BY seq DESC LIMIT ?""")) {
                ps.setString(1, accountId);
                ps.setInt(2, Math.max(0, limit));
                List<LedgerEntry> entries = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        entries.add(map(rs));
                    }
                }
                return entries;
            }
        });
    }

    private static LedgerEntry map(ResultSet rs) throws SQLException {
        return new LedgerEntry(
                rs.getString("entry_id"),
                rs.getString("account_id"),
                rs.getString("kind"),
                rs.getBigDecimal("amount"),
                rs.getBigDecimal("balance_after"),
                rs.getString("request_id"),
                rs.getString("reason"),
                Jdbc.instant(rs, "created_at"));
    }
}
