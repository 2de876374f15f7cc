package io.tollgate.schema;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * Follows the {@code tollgate_changes} channel that the schema's triggers notify with
 * {@code '<table>:<id>'}, on a dedicated connection and thread. {@code onConnected} runs after
 * every (re)connection, once LISTEN is in place, so a subscriber can reload what it may have
 * missed; {@code onTick} runs every {@code tick} for periodic work.
 */
public final class ChangeFeed implements AutoCloseable {

    public static final String CHANNEL = "tollgate_changes";
    private static final Logger log = LoggerFactory.getLogger(ChangeFeed.class);

    private final Database.Config config;
    private final Consumer<String> onChange;
    private final Runnable onConnected;
    private final Runnable onTick;
    private final Duration tick;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Connection connection;

    public ChangeFeed(Database database, Consumer<String> onChange, Runnable onConnected,
                      Runnable onTick, Duration tick) {
        this.config = database.config();
        this.onChange = onChange;
        this.onConnected = onConnected;
        this.onTick = onTick;
        this.tick = tick;
        this.thread = new Thread(this::loop, "tollgate-change-feed");
        this.thread.setDaemon(true);
        this.thread.setPriority(Thread.MIN_PRIORITY + 1);   // catching up only; the proxy's loops come first
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        while (running) {
            try (Connection c = connect()) {
                connection = c;
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                onConnected.run();
                PGConnection pg = c.unwrap(PGConnection.class);
                long nextTick = System.nanoTime() + tick.toNanos();
                while (running) {
                    PGNotification[] notes = pg.getNotifications(250);
                    if (notes != null) {
                        for (PGNotification n : notes) {
                            onChange.accept(n.getParameter());
                        }
                    }
                    if (System.nanoTime() - nextTick > 0) {
                        onTick.run();
                        nextTick = System.nanoTime() + tick.toNanos();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    return;
                }
                log.warn("change feed lost its database connection, retrying in 1 s: {}", e.toString());
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException ie) {
                    return;
                }
            } finally {
                connection = null;
            }
        }
    }

    private Connection connect() throws SQLException {
        Properties props = new Properties();
        if (config.user() != null) {
            props.setProperty("user", config.user());
        }
        if (config.password() != null) {
            props.setProperty("password", config.password());
        }
        return DriverManager.getConnection(config.url(), props);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
