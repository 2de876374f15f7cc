package io.tollgate.schema;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.List;

/**
 * The money path's database half: reservations and settlements, each one statement, and the
 * request log written in batches. Blocking JDBC: callers run it off the event loop.
 */
public final class BillingStore {

    public enum Reserve { RESERVED, INSUFFICIENT_CREDITS, KEY_CREDIT_LIMIT }

    /**
     * The end of one request: its reservation (if it made one) is settled at {@code cost}
     * (zero releases it) and its request-log row is written.
     */
    public record Outcome(boolean reserved, BigDecimal cost, RequestLogEntry log) {
    }

    private static final String INSERT_LOG = """
            INSERT INTO request_log (request_id, account_id, key_id, model, endpoint, status, error_code,
                                     latency_ms, ttfb_ms, input_tokens, output_tokens, credits, upstream_id, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (request_id) DO NOTHING""";

    private final DataSource dataSource;

    public BillingStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public Reserve reserve(String requestId, String accountId, String keyId, BigDecimal amount) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT tollgate_reserve(?, ?, ?, ?)")) {
            ps.setString(1, requestId);
            ps.setString(2, accountId);
            ps.setString(3, keyId);
            ps.setBigDecimal(4, amount);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return switch (rs.getInt(1)) {
                    case 0 -> Reserve.RESERVED;
                    case 2 -> Reserve.KEY_CREDIT_LIMIT;
                    default -> Reserve.INSUFFICIENT_CREDITS;
                };
            }
        }
    }

    /** Applies a batch of outcomes in one transaction; replaying a batch changes nothing. */
    public void apply(List<Outcome> outcomes) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement settle = c.prepareStatement("SELECT tollgate_settle(?, ?, ?)");
                 PreparedStatement log = c.prepareStatement(INSERT_LOG)) {
                for (Outcome o : outcomes) {
                    if (o.reserved()) {
                        settle.setString(1, o.log().requestId());
                        settle.setBigDecimal(2, o.cost());
                        settle.setString(3, Ids.newId("le"));
                        settle.executeQuery().close();
                    }
                    RequestLogEntry e = o.log();
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
