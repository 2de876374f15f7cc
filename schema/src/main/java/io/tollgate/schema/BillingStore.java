package io.tollgate.schema;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
     * A batch in one statement and one round trip: its request-log rows, and the spends of the
     * requests whose rows were not there yet (a request's settlement and its log row are always
     * written in the same transaction, so a replayed batch spends nothing again). The conflict
     * check is the primary key's own, so no plan can turn it into a scan of the whole log.
     *
     * <p>Every parameter is an array pgjdbc sends in binary: credits and costs as text, cast here,
     * and the time as microseconds since the epoch (exact: an interval times a whole number below
     * 2^53). numeric[] and timestamptz[] would go as escaped text literals, element by element.
     * holder, cost and entry id are null for an outcome that spends nothing.
     */
    private static final String SETTLE = """
            WITH r AS (
                SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::integer[], ?::text[],
                                     ?::integer[], ?::integer[], ?::bigint[], ?::bigint[], ?::text[], ?::text[],
                                     ?::bigint[], ?::text[], ?::text[], ?::text[]) WITH ORDINALITY
                    AS r(request_id, account_id, key_id, model, endpoint, status, error_code, latency_ms, ttfb_ms,
                         input_tokens, output_tokens, credits, upstream_id, created_us, holder, cost, entry_id, n)),
            logged AS (
                INSERT INTO request_log (""" + RequestLogRows.COLUMNS + """
            )
                SELECT request_id, account_id, key_id, model, endpoint, status, error_code, latency_ms, ttfb_ms,
                       input_tokens, output_tokens, credits::numeric, upstream_id,
                       timestamptz 'epoch' + created_us * interval '1 microsecond'
                  FROM r
                ON CONFLICT (request_id) DO NOTHING
                RETURNING request_id)
            SELECT tollgate_spend_batch(array_agg(r.request_id ORDER BY r.n), array_agg(r.holder ORDER BY r.n),
                                        array_agg(r.key_id ORDER BY r.n), array_agg(r.cost::numeric ORDER BY r.n),
                                        array_agg(r.entry_id ORDER BY r.n))
              FROM r JOIN logged USING (request_id)
             WHERE r.holder IS NOT NULL""";

    private static final Map<Class<?>, String> ARRAY_TYPES =
            Map.of(String[].class, "text", Integer[].class, "int4", Long[].class, "int8");

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
            try (PreparedStatement settle = c.prepareStatement(SETTLE)) {
                int n = outcomes.size();
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
                String[] credits = new String[n];
                String[] upstreamIds = new String[n];
                Long[] createdMicros = new Long[n];
                String[] holders = new String[n];
                String[] costs = new String[n];
                String[] entryIds = new String[n];
                for (int i = 0; i < n; i++) {
                    Outcome o = outcomes.get(i);
                    RequestLogEntry e = o.log();
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
                    credits[i] = e.credits() == null ? "0" : e.credits().toPlainString();
                    upstreamIds[i] = e.upstreamId();
                    createdMicros[i] = micros(e.createdAt());
                    if (o.spends()) {
                        holders[i] = o.holder();
                        costs[i] = o.cost().toPlainString();
                        entryIds[i] = Ids.timeOrderedId("le");
                    }
                }
                Object[][] columns = {requestIds, accountIds, keyIds, models, endpoints, statuses, errorCodes,
                        latencies, ttfbs, inputTokens, outputTokens, credits, upstreamIds, createdMicros,
                        holders, costs, entryIds};
                for (int col = 0; col < columns.length; col++) {
                    settle.setArray(col + 1, c.createArrayOf(ARRAY_TYPES.get(columns[col].getClass()), columns[col]));
                }
                settle.executeQuery().close();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** {@code at} in whole microseconds since the epoch, the nearest one (PostgreSQL's precision). */
    static long micros(Instant at) {
        return Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), (at.getNano() + 500) / 1000);
    }
}
