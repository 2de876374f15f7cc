package io.tollgate.schema;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.HashSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The money path's database half: credit leases (grow, shrink, renew, sweep) and settlements,
 * each one statement, and the request log written in batches. Blocking JDBC: callers run it off
 * the event loop.
 */
public final class BillingStore {

    public enum Reserve { RESERVED, INSUFFICIENT_CREDITS, KEY_CREDIT_LIMIT }

    /**
     * The end of one request: a positive {@code cost} is spent from {@code holder}'s lease on the
     * request's key (or from the balance, if that lease is gone), and its request-log row written.
     */
    public record Outcome(String holder, BigDecimal cost, RequestLogEntry log) {

        public boolean spends() {
            return holder != null && cost != null && cost.signum() > 0;
        }
    }

    /** What growing a lease gave: the lease's new total, or why nothing could be granted. */
    public record Lease(Reserve result, BigDecimal total) {
    }

    private static final String INSERT_LOG = """
            INSERT INTO request_log (request_id, account_id, key_id, model, endpoint, status, error_code,
                                     latency_ms, ttfb_ms, input_tokens, output_tokens, credits, upstream_id, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (request_id) DO NOTHING""";

    private static final String SPEND_ALL = """
            SELECT tollgate_spend(r, h, k, c, e)
              FROM unnest(?::text[], ?::text[], ?::text[], ?::numeric[], ?::text[]) WITH ORDINALITY AS t(r, h, k, c, e, n)
             ORDER BY n""";

    private final DataSource dataSource;

    public BillingStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Grows {@code holder}'s lease on a key by up to {@code max} and at least {@code min}, in one
     * statement; the lease lives {@code ttlSeconds} unless renewed.
     */
    public Lease growLease(String holder, String keyId, String accountId, BigDecimal min, BigDecimal max,
                           int ttlSeconds) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT tollgate_lease_grow(?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, holder);
            ps.setString(2, keyId);
            ps.setString(3, accountId);
            ps.setBigDecimal(4, min);
            ps.setBigDecimal(5, max);
            ps.setInt(6, ttlSeconds);
            try (var rs = ps.executeQuery()) {
                rs.next();
                BigDecimal total = rs.getBigDecimal(1);
                if (total.signum() < 0) {
                    return new Lease(total.intValue() == -2 ? Reserve.KEY_CREDIT_LIMIT : Reserve.INSUFFICIENT_CREDITS, null);
                }
                return new Lease(Reserve.RESERVED, total);
            }
        }
    }

    /** Gives back up to {@code amount} of a lease; returns what was given back. */
    public BigDecimal shrinkLease(String holder, String keyId, BigDecimal amount) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT tollgate_lease_shrink(?, ?, ?)")) {
            ps.setString(1, holder);
            ps.setString(2, keyId);
            ps.setBigDecimal(3, amount);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getBigDecimal(1);
            }
        }
    }

    /**
     * Renews every lease of {@code holder}, then releases the leases of holders that went silent.
     * Returns the keys {@code holder} still holds a lease on: one missing was swept while its
     * holder could not renew it.
     */
    public Set<String> renewAndSweep(String holder, int ttlSeconds) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement renew = c.prepareStatement("""
                     UPDATE credit_leases SET expires_at = now() + make_interval(secs => ?)
                      WHERE holder = ? RETURNING key_id""");
             PreparedStatement sweep = c.prepareStatement("SELECT tollgate_lease_sweep()")) {
            renew.setInt(1, ttlSeconds);
            renew.setString(2, holder);
            Set<String> held = new HashSet<>();
            try (var rs = renew.executeQuery()) {
                while (rs.next()) {
                    held.add(rs.getString(1));
                }
            }
            sweep.executeQuery().close();
            return held;
        }
    }

    /** Applies a batch of outcomes in one transaction; replaying a batch changes nothing. */
    public void apply(List<Outcome> outcomes) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement spend = c.prepareStatement(SPEND_ALL);
                 PreparedStatement log = c.prepareStatement(INSERT_LOG)) {
                List<String> requestIds = new ArrayList<>();
                List<String> holders = new ArrayList<>();
                List<String> keyIds = new ArrayList<>();
                List<BigDecimal> costs = new ArrayList<>();
                List<String> entryIds = new ArrayList<>();
                for (Outcome o : outcomes) {
                    RequestLogEntry e = o.log();
                    if (o.spends()) {
                        requestIds.add(e.requestId());
                        holders.add(o.holder());
                        keyIds.add(e.keyId());
                        costs.add(o.cost());
                        entryIds.add(Ids.newId("le"));
                    }
                    log.setString(1, e.requestId());
                    log.setString(2, e.accountId());
                    log.setString(3, e.keyId());
                    log.setString(4, e.model());
                    log.setString(5, e.endpoint());
                    log.setInt(6, e.status());
                    log.setString(7, e.errorCode());
                    setInt(log, 8, e.latencyMs());
                    setInt(log, 9, e.ttfbMs());
                    setLong(log, 10, e.inputTokens());
                    setLong(log, 11, e.outputTokens());
                    log.setBigDecimal(12, e.credits() == null ? BigDecimal.ZERO : e.credits());
                    log.setString(13, e.upstreamId());
                    log.setTimestamp(14, Timestamp.from(e.createdAt()));
                    log.addBatch();
                }
                if (!requestIds.isEmpty()) {
                    // Every spend of the batch in one round trip, in order: the function locks the
                    // key, lease and account rows of each in turn.
                    spend.setArray(1, c.createArrayOf("text", requestIds.toArray()));
                    spend.setArray(2, c.createArrayOf("text", holders.toArray()));
                    spend.setArray(3, c.createArrayOf("text", keyIds.toArray()));
                    spend.setArray(4, c.createArrayOf("numeric", costs.toArray()));
                    spend.setArray(5, c.createArrayOf("text", entryIds.toArray()));
                    spend.executeQuery().close();
                }
                log.executeBatch();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private static void setInt(PreparedStatement ps, int i, Integer v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.INTEGER);
        } else {
            ps.setInt(i, v);
        }
    }

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.BIGINT);
        } else {
            ps.setLong(i, v);
        }
    }
}
