package io.tollgate.schema;

import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;

/** A request-log row written outside the outcome batches (a task's submit, with its acceptance): idempotent by request id, like those. */
final class RequestLogRows {

    /** The columns a row is written with, in {@link #bind}'s order (BillingStore's batches use them too). */
    static final String COLUMNS = """
            request_id, account_id, key_id, model, endpoint, status, error_code,
            latency_ms, ttfb_ms, input_tokens, output_tokens, credits, upstream_id, created_at""";

    static final String INSERT = "INSERT INTO request_log (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            + "ON CONFLICT (request_id) DO NOTHING";

    private RequestLogRows() {
    }

    /** Sets the parameters of {@link #INSERT} for {@code e}. */
    static void bind(PreparedStatement ps, RequestLogEntry e) throws SQLException {
        ps.setString(1, e.requestId());
        ps.setString(2, e.accountId());
        ps.setString(3, e.keyId());
        ps.setString(4, e.model());
        ps.setString(5, e.endpoint());
        ps.setInt(6, e.status());
        ps.setString(7, e.errorCode());
        setInt(ps, 8, e.latencyMs());
        setInt(ps, 9, e.ttfbMs());
        setLong(ps, 10, e.inputTokens());
        setLong(ps, 11, e.outputTokens());
        ps.setBigDecimal(12, e.credits() == null ? BigDecimal.ZERO : e.credits());
        ps.setString(13, e.upstreamId());
        ps.setTimestamp(14, Timestamp.from(e.createdAt()));
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
