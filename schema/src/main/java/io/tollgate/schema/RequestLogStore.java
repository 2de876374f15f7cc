package io.tollgate.schema;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Reads the request log the proxy writes. */
public final class RequestLogStore {

    private static final String COLUMNS = "request_id, account_id, key_id, model, endpoint, status, error_code,"
            + " latency_ms, ttfb_ms, input_tokens, output_tokens, credits, upstream_id, created_at";

    private final DataSource ds;

    public RequestLogStore(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    /** The latest {@code limit} rows, newest first; a null filter matches every row. */
    public List<RequestLogEntry> list(String accountId, String keyId, int limit) {
        List<String> where = new ArrayList<>();
        List<String> params = new ArrayList<>();
        if (accountId != null) {
            where.add("account_id = ?");
            params.add(accountId);
        }
        if (keyId != null) {
            where.add("key_id = ?");
            params.add(keyId);
        }
        String sql = "SELECT " + COLUMNS + " FROM request_log"
                + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where))
                + " ORDER BY created_at DESC, request_id DESC LIMIT ?";
        return Jdbc.withConnection(ds, "list request log", c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                for (String p : params) {
                    ps.setString(i++, p);
                }
                ps.setInt(i, Math.max(0, limit));
                List<RequestLogEntry> rows = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(map(rs));
                    }
                }
                return rows;
            }
        });
    }

    private static RequestLogEntry map(ResultSet rs) throws SQLException {
        return new RequestLogEntry(
                rs.getString("request_id"),
                rs.getString("account_id"),
                rs.getString("key_id"),
                rs.getString("model"),
                rs.getString("endpoint"),
                rs.getInt("status"),
                rs.getString("error_code"),
                Jdbc.nullableInt(rs, "latency_ms"),
                Jdbc.nullableInt(rs, "ttfb_ms"),
                Jdbc.nullableLong(rs, "input_tokens"),
                Jdbc.nullableLong(rs, "output_tokens"),
                rs.getBigDecimal("credits"),
                rs.getString("upstream_id"),
                Jdbc.instant(rs, "created_at"));
    }
}
