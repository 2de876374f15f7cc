package io.tollgate.schema;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Media tasks and the credits they hold (see {@code V7__media_tasks.sql}): opened with their
 * reservation, accepted by the upstream, ended exactly once with their settlement. Blocking JDBC
 * that throws {@link SQLException}, like {@link BillingStore}: callers run it off the event loop
 * and decide what an unreachable database means.
 */
public final class TaskStore {

    /** What opening a task gave. */
    public enum Open { OPENED, INSUFFICIENT_CREDITS, KEY_CREDIT_LIMIT, TOO_MANY_TASKS }

    /** A task read for a poll; {@code claimed}: this caller is the one to ask the upstream now. */
    public record Claim(MediaTask task, boolean claimed) {
    }

    /** What a new task is: who submits it, what it runs on, and what it reserves. */
    public record NewTask(String id, String kind, String requestId, String accountId, String keyId, String model,
                          String upstreamId, String upstreamModel, BigDecimal units, BigDecimal pricePerRequest,
                          BigDecimal pricePerUnit, BigDecimal reserved) {
    }

    private static final String COLUMNS = "id, kind, request_id, account_id, key_id, model, upstream_id, upstream_model,"
            + " upstream_task_id, status, units, price_per_request, price_per_unit, reserved, cost, billed_units,"
            + " result::text AS result, error, created_at, checked_at, finished_at";
    private static final String UNFINISHED = "('submitting', 'queued', 'running')";

    private final DataSource ds;

    public TaskStore(DataSource ds) {
        this.ds = ds;
    }

    /**
     * Opens {@code task} in state {@code submitting}, moving its reservation out of {@code holder}'s
     * lease on the key (see {@code tollgate_task_open}); refused when {@code maxActive} tasks of its
     * kind are unfinished for the account (null: no limit) or the credits cannot cover it.
     */
    public Open open(NewTask task, String holder, Integer maxActive) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT tollgate_task_open(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            int i = 1;
            ps.setString(i++, task.id());
            ps.setString(i++, task.kind());
            ps.setString(i++, task.requestId());
            ps.setString(i++, holder);
            ps.setString(i++, task.accountId());
            ps.setString(i++, task.keyId());
            ps.setString(i++, task.model());
            ps.setString(i++, task.upstreamId());
            ps.setString(i++, task.upstreamModel());
            ps.setBigDecimal(i++, task.units());
            ps.setBigDecimal(i++, task.pricePerRequest());
            ps.setBigDecimal(i++, task.pricePerUnit());
            ps.setBigDecimal(i++, task.reserved());
            if (maxActive == null) {
                ps.setNull(i, Types.INTEGER);
            } else {
                ps.setInt(i, maxActive);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return switch (rs.getInt(1)) {
                    case 0 -> Open.OPENED;
                    case 1 -> Open.INSUFFICIENT_CREDITS;
                    case 2 -> Open.KEY_CREDIT_LIMIT;
                    default -> Open.TOO_MANY_TASKS;
                };
            }
        }
    }

    /**
     * The upstream took the task: it is {@code status} now ({@code queued} or {@code running}),
     * known upstream as {@code upstreamTaskId} (null when the gateway drives it itself), and the
     * submit's request-log row is written with it, so its settlement always finds that row. False
     * when the task is no longer submitting (it timed out meanwhile).
     */
    public boolean accepted(String taskId, String upstreamTaskId, String status, RequestLogEntry submit) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE media_tasks SET upstream_task_id = ?, status = ?, checked_at = now()
                     WHERE id = ? AND status = 'submitting'""");
                 PreparedStatement log = c.prepareStatement(RequestLogRows.INSERT)) {
                ps.setString(1, upstreamTaskId);
                ps.setString(2, status);
                ps.setString(3, taskId);
                boolean accepted = ps.executeUpdate() == 1;
                if (accepted) {
                    RequestLogRows.bind(log, submit);
                    log.executeUpdate();
                }
                c.commit();
                return accepted;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** The task {@code id} of {@code kind} if {@code accountId} owns it, else null. */
    public MediaTask find(String id, String kind, String accountId) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                     + " FROM media_tasks WHERE id = ? AND kind = ? AND account_id = ?")) {
            ps.setString(1, id);
            ps.setString(2, kind);
            ps.setString(3, accountId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? map(rs) : null;
            }
        }
    }

    /** The task {@code id}, whoever owns it, or null. */
    public MediaTask get(String id) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM media_tasks WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? map(rs) : null;
            }
        }
    }

    /**
     * Reads a task for a poll by its owner, and claims asking its upstream when nobody asked
     * within {@code interval} (in one statement, so of many pollers, on many proxies, one asks).
     * Null when there is no such task of this account.
     */
    public Claim claim(String id, String kind, String accountId, Duration interval) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement claim = c.prepareStatement("UPDATE media_tasks SET checked_at = now()"
                     + " WHERE id = ? AND kind = ? AND account_id = ? AND status IN ('queued', 'running')"
                     + " AND upstream_task_id IS NOT NULL AND checked_at <= now() - make_interval(secs => ?)"
                     + " RETURNING " + COLUMNS)) {
            claim.setString(1, id);
            claim.setString(2, kind);
            claim.setString(3, accountId);
            claim.setDouble(4, interval.toMillis() / 1000.0);
            try (ResultSet rs = claim.executeQuery()) {
                if (rs.next()) {
                    return new Claim(map(rs), true);
                }
            }
        }
        MediaTask t = find(id, kind, accountId);
        return t == null ? null : new Claim(t, false);
    }

    /**
     * Claims up to {@code limit} accepted tasks whose upstream nobody asked for {@code age}, oldest
     * first, skipping those another proxy is claiming right now.
     */
    public List<MediaTask> claimStale(Duration age, int limit) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE media_tasks SET checked_at = now() WHERE id IN ("
                     + " SELECT id FROM media_tasks WHERE status IN ('queued', 'running') AND upstream_task_id IS NOT NULL"
                     + " AND checked_at <= now() - make_interval(secs => ?) ORDER BY checked_at LIMIT ?"
                     + " FOR UPDATE SKIP LOCKED) RETURNING " + COLUMNS)) {
            ps.setDouble(1, age.toMillis() / 1000.0);
            ps.setInt(2, limit);
            return list(ps);
        }
    }

    /**
     * Unfinished tasks past their timeout, up to {@code limit}: still submitting after
     * {@code submitTimeout} (its proxy died mid-submit), or older than their kind's timeout.
     */
    public List<MediaTask> overdue(Duration videoTimeout, Duration imageTimeout, Duration submitTimeout, int limit)
            throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM media_tasks WHERE status IN "
                     + UNFINISHED + " AND created_at < now() - make_interval(secs => CASE WHEN status = 'submitting'"
                     + " THEN least(?, CASE kind WHEN 'video' THEN ? ELSE ? END) WHEN kind = 'video' THEN ? ELSE ? END)"
                     + " ORDER BY created_at LIMIT ?")) {
            double video = videoTimeout.toMillis() / 1000.0;
            double image = imageTimeout.toMillis() / 1000.0;
            ps.setDouble(1, submitTimeout.toMillis() / 1000.0);
            ps.setDouble(2, video);
            ps.setDouble(3, image);
            ps.setDouble(4, video);
            ps.setDouble(5, image);
            ps.setInt(6, limit);
            return list(ps);
        }
    }

    /** An unfinished task moved on ({@code queued} → {@code running}); a finished one is left as it is. */
    public void progressed(String id, String status) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "UPDATE media_tasks SET status = ? WHERE id = ? AND status IN ('queued', 'running')")) {
            ps.setString(1, status);
            ps.setString(2, id);
            ps.executeUpdate();
        }
    }

    /**
     * Ends the task, settling it, exactly once (see {@code tollgate_task_finish}): succeeded at
     * {@code cost} for {@code billedUnits}, with {@code resultJson} for its polls, or failed with
     * {@code error} at no cost. False when it had ended already.
     */
    public boolean finish(String id, boolean succeeded, BigDecimal cost, BigDecimal billedUnits, String resultJson,
                          String error) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT tollgate_task_finish(?, ?, ?, ?, ?::jsonb, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, succeeded ? MediaTask.SUCCEEDED : MediaTask.FAILED);
            ps.setBigDecimal(3, succeeded ? cost : BigDecimal.ZERO);
            ps.setBigDecimal(4, billedUnits);
            ps.setString(5, resultJson);
            ps.setString(6, error);
            ps.setString(7, Ids.timeOrderedId("le"));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static List<MediaTask> list(PreparedStatement ps) throws SQLException {
        List<MediaTask> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(map(rs));
            }
        }
        return out;
    }

    private static MediaTask map(ResultSet rs) throws SQLException {
        return new MediaTask(
                rs.getString("id"),
                rs.getString("kind"),
                rs.getString("request_id"),
                rs.getString("account_id"),
                rs.getString("key_id"),
                rs.getString("model"),
                rs.getString("upstream_id"),
                rs.getString("upstream_model"),
                rs.getString("upstream_task_id"),
                rs.getString("status"),
                rs.getBigDecimal("units"),
                rs.getBigDecimal("price_per_request"),
                rs.getBigDecimal("price_per_unit"),
                rs.getBigDecimal("reserved"),
                rs.getBigDecimal("cost"),
                rs.getBigDecimal("billed_units"),
                rs.getString("result"),
                rs.getString("error"),
                Jdbc.instant(rs, "created_at"),
                Jdbc.instant(rs, "checked_at"),
                Jdbc.instant(rs, "finished_at"));
    }
}
