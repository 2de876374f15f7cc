package io.tollgate.schema;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Usage totals per account, model and UTC day, read from the request log. */
public final class UsageStore {

    /*
     * One pass over the account's rows in [from, to): request_log_account_time (account_id, created_at)
     * turns the WHERE into one index range scan (equality on the first column, a range on the second),
     * and the groups are summed from the heap rows it points at. Days are cut at UTC whatever the session's time zone. Models sort bytewise
     * (COLLATE "C", the same on every database locale), the null model last.
     */
    private static final String SQL = """
            SELECT date_trunc('day', created_at AT TIME ZONE 'UTC')::date AS day,
                   model,
                   count(*) AS requests,
                   count(*) FILTER (WHERE status BETWEEN 200 AND 299) AS successful_requests,
                   COALESCE(sum(input_tokens), 0)::bigint AS input_tokens,
                   COALESCE(sum(output_tokens), 0)::bigint AS output_tokens,
                   sum(credits) AS credits
            FROM request_log
            WHERE account_id = ? AND created_at >= ? AND created_at < ?
            GROUP BY day, model
            ORDER BY day, model COLLATE "C" NULLS LAST""";

    private final DataSource ds;

    public UsageStore(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    /**
     * The account's usage from {@code from} (inclusive) to {@code to} (exclusive), one row per UTC day
     * and model that has at least one request, ordered by day, then model (null last).
     */
    public List<UsageRow> daily(String accountId, Instant from, Instant to) {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (from.isAfter(to)) {
            throw new IllegalArgumentException("from " + from + " is after to " + to);
        }
        return Jdbc.withConnection(ds, "read usage", c -> {
            try (PreparedStatement ps = c.prepareStatement(SQL)) {
                ps.setString(1, accountId);
                Jdbc.setInstant(ps, 2, from);
                Jdbc.setInstant(ps, 3, to);
                List<UsageRow> rows = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        BigDecimal credits = rs.getBigDecimal("credits");
                        rows.add(new UsageRow(
                                rs.getObject("day", LocalDate.class),
                                rs.getString("model"),
                                rs.getLong("requests"),
                                rs.getLong("successful_requests"),
                                rs.getLong("input_tokens"),
                                rs.getLong("output_tokens"),
                                credits == null ? BigDecimal.ZERO : credits));
                    }
                }
                return rows;
            }
        });
    }
}
