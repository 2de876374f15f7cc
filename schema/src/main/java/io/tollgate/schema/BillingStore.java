package io.tollgate.schema;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
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

    /**
     * The batch's request-log rows in one statement. The rows that were not there yet come back:
     * only their requests are spent, since a request's settlement and its log row are always
     * written in the same transaction. The conflict check is the primary key's own, so no plan
     * can turn it into a scan of the whole log.
     */
    private static final String INSERT_LOG = "INSERT INTO request_log (" + RequestLogRows.COLUMNS + ")\n" + """
            SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::integer[], ?::text[],
                                 ?::integer[], ?::integer[], ?::bigint[], ?::bigint[], ?::numeric[], ?::text[],
                                 ?::timestamptz[])
            ON CONFLICT (request_id) DO NOTHING
            RETURNING request_id""";

    private static final String SPEND_ALL = "SELECT tollgate_spend_batch(?::text[], ?::text[], ?::text[], ?::numeric[], ?::text[])";

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
        if (outcomes.isEmpty()) {
            return;
        }
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement log = c.prepareStatement(INSERT_LOG);
                 PreparedStatement spend = c.prepareStatement(SPEND_ALL)) {
                int n = outcomes.size();
                // Typed arrays: pgjdbc sends String[], Integer[] and Long[] in binary, where an
                // Object[] is written out as an escaped array literal, element by element (most of
                // this thread's CPU in the bench). numeric and timestamptz have no binary encoder.
                String[] requestIds = new String[n];
                String[] accountIds = new String[n];
                String[] keyIds = new String[n];
                String[] models = new String[n];
                String[] endpoints = new String[n];
                Integer[] statuses = new Integer[n];
                String[] errorCodes = new String[n];
                Integer[] latencies = new Integer[n];
                Integer[] ttfbs = new Integer[n];
                Long[] inputTokens = new Long[n];
                Long[] outputTokens = new Long[n];
                Object[] credits = new Object[n];
                String[] upstreamIds = new String[n];
                Object[] createdAt = new Object[n];
                for (int i = 0; i < n; i++) {
                    RequestLogEntry e = outcomes.get(i).log();
                    requestIds[i] = e.requestId();
                    accountIds[i] = e.accountId();
                    keyIds[i] = e.keyId();
                    models[i] = e.model();
                    endpoints[i] = e.endpoint();
                    statuses[i] = e.status();
                    errorCodes[i] = e.errorCode();
                    latencies[i] = e.latencyMs();
                    ttfbs[i] = e.ttfbMs();
                    inputTokens[i] = e.inputTokens();
                    outputTokens[i] = e.outputTokens();
                    credits[i] = e.credits() == null ? BigDecimal.ZERO : e.credits();
                    upstreamIds[i] = e.upstreamId();
                    createdAt[i] = Timestamp.from(e.createdAt());
                }
                Object[][] columns = {requestIds, accountIds, keyIds, models, endpoints, statuses, errorCodes,
                        latencies, ttfbs, inputTokens, outputTokens, credits, upstreamIds, createdAt};
                String[] types = {"text", "text", "text", "text", "text", "int4", "text", "int4", "int4", "int8", "int8",
                        "numeric", "text", "timestamptz"};
                for (int col = 0; col < columns.length; col++) {
                    log.setArray(col + 1, c.createArrayOf(types[col], columns[col]));
                }
                Set<String> logged = new HashSet<>();
                try (var rs = log.executeQuery()) {
                    while (rs.next()) {
                        logged.add(rs.getString(1));
                    }
                }

                List<String> spentIds = new ArrayList<>();
                List<String> holders = new ArrayList<>();
                List<String> spentKeys = new ArrayList<>();
                List<BigDecimal> costs = new ArrayList<>();
                List<String> entryIds = new ArrayList<>();
                for (Outcome o : outcomes) {
                    if (o.spends() && logged.contains(o.log().requestId())) {
                        spentIds.add(o.log().requestId());
                        holders.add(o.holder());
                        spentKeys.add(o.log().keyId());
                        costs.add(o.cost());
                        entryIds.add(Ids.timeOrderedId("le"));
                    }
                }
                if (!spentIds.isEmpty()) {
                    // Every spend of the batch in one round trip: each key's lease, key and account
                    // rows move once by the key's total, and each request gets its ledger entry.
                    spend.setArray(1, c.createArrayOf("text", spentIds.toArray(String[]::new)));
                    spend.setArray(2, c.createArrayOf("text", holders.toArray(String[]::new)));
                    spend.setArray(3, c.createArrayOf("text", spentKeys.toArray(String[]::new)));
                    spend.setArray(4, c.createArrayOf("numeric", costs.toArray()));
                    spend.setArray(5, c.createArrayOf("text", entryIds.toArray(String[]::new)));
                    spend.executeQuery().close();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }
}
