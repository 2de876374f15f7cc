package io.tollgate.bench.suite;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Samples what Tollgate's PostgreSQL backends are doing (pg_stat_activity, every 100 ms) while a
 * phase runs: where the money path's time goes (row locks, WAL flushes, CPU) without touching
 * the proxy.
 */
final class PgWaits implements AutoCloseable {

    private final Map<String, Integer> counts = new TreeMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** Off between a phase's slices, when other contenders run and Tollgate's backends sit idle. */
    private volatile boolean sampling = true;
    private final Thread thread;
    private int samples;

    private PgWaits(String adminUrl, String database) {
        thread = new Thread(() -> loop(adminUrl, database), "pg-waits");
        thread.setDaemon(true);
        thread.start();
    }

    static PgWaits start(String adminUrl, Contender c) {
        return c instanceof TollgateProcess t && adminUrl != null ? new PgWaits(adminUrl, t.database()) : null;
    }

    private void loop(String adminUrl, String database) {
        try (Connection c = DriverManager.getConnection(adminUrl);
             PreparedStatement ps = c.prepareStatement("SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') "
                     + "FROM pg_stat_activity WHERE datname = ? AND state = 'active' AND pid <> pg_backend_pid()")) {
            ps.setString(1, database);
            while (running.get()) {
                if (sampling) {
                    try (ResultSet rs = ps.executeQuery()) {
                        synchronized (counts) {
                            samples++;
                            while (rs.next()) {
                                counts.merge(rs.getString(1), 1, Integer::sum);
                            }
                        }
                    }
                }
                Thread.sleep(100);
            }
        } catch (Exception e) {
            synchronized (counts) {
                counts.put("sampling failed: " + e.getMessage(), 0);
            }
        }
    }

    /** "Lock:transactionid 81%, IO:WALSync 6%, …, 9.3 active on average", the biggest first. */
    String summary() {
        synchronized (counts) {
            int total = counts.values().stream().mapToInt(Integer::intValue).sum();
            if (total == 0 || samples == 0) {
                return counts.isEmpty() ? "no active backend seen" : String.join(", ", counts.keySet());
            }
            String parts = counts.entrySet().stream()
                    .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                    .limit(5)
                    .map(e -> e.getKey() + " " + Math.round(100.0 * e.getValue() / total) + "%")
                    .collect(Collectors.joining(", "));
            return parts + String.format(java.util.Locale.ROOT, " (%.1f backends active on average)", (double) total / samples);
        }
    }

    /** Stops sampling until {@link #resume}. */
    void pause() {
        sampling = false;
    }

    void resume() {
        sampling = true;
    }

    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
