package io.tollgate.app;

import io.tollgate.admin.AdminServer;
import io.tollgate.proxy.ProxyConfig;
import io.tollgate.proxy.ProxyServer;
import io.tollgate.schema.Database;
import org.flywaydb.core.api.output.MigrateResult;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;

/**
 * The running parts of one Tollgate process. Each part is closed in the reverse order of its
 * start: proxy, admin, database pool, embedded PostgreSQL, so nothing loses what it depends on
 * while it still serves.
 */
final class Launcher implements AutoCloseable {

    private record Part(String name, AutoCloseable closeable) {
    }

    /**
     * The servers this process runs, with the ports they actually bound (configured port 0 means
     * any free one).
     *
     * @param proxy null when this process runs no proxy
     * @param admin null when this process runs no admin API
     */
    record Servers(ProxyServer proxy, AdminServer admin) {
    }

    private final TollgateConfig config;
    private final PrintStream out;
    private final PrintStream err;
    private final Deque<Part> started = new ArrayDeque<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread shutdownHook = new Thread(this::close, "tollgate-shutdown");
    private Database database;
    private ProxyServer proxy;
    private AdminServer admin;

    Launcher(TollgateConfig config, PrintStream out, PrintStream err) {
        this.config = config;
        this.out = out;
        this.err = err;
        // SIGTERM and Ctrl-C close everything in order, as a normal exit does.
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    TollgateConfig config() {
        return config;
    }

    /**
     * Connects to the configured PostgreSQL, or starts the embedded one, and applies the pending
     * migrations.
     */
    synchronized MigrateResult openDatabase() {
        createDataDir();
        TollgateConfig.DatabaseSettings settings = config.database();
        Database.Config dbConfig;
        if (settings.embedded()) {
            out.println("starting embedded PostgreSQL in " + config.dataDir().resolve("pg").toAbsolutePath() + " …");
            EmbeddedDatabase embedded = EmbeddedDatabase.start(config.dataDir());
            started.push(new Part("embedded PostgreSQL", embedded));
            out.println("database  embedded PostgreSQL on localhost:" + embedded.port()
                    + " (database " + EmbeddedDatabase.DATABASE + ", user postgres)");
            dbConfig = new Database.Config(embedded.jdbcUrl(), null, null, settings.poolSize());
        } else {
            out.println("database  " + withoutQuery(settings.url()));
            dbConfig = new Database.Config(settings.url(), settings.user(), settings.password(), settings.poolSize());
        }
        database = Database.open(dbConfig);
        started.push(new Part("database pool", database));
        try {
            return database.migrate();
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot migrate the database at " + withoutQuery(dbConfig.url()) + ": "
                    + rootMessage(e), e);
        }
    }

    synchronized Database database() {
        if (database == null) {
            throw new IllegalStateException("the database is not open");
        }
        return database;
    }

    synchronized AdminServer startAdmin(String token) {
        TollgateConfig.AdminSettings settings = config.admin();
        // The tiers the limiter knows are the ones an account may be put on.
        AdminServer admin = AdminServer.start(
                new AdminServer.Config(settings.host(), settings.port(), token, config.tierNames()), database());
        started.push(new Part("admin API", admin));
        this.admin = admin;
        out.println("admin     listening on " + settings.host() + ":" + admin.port()
                + "   " + url(settings.host(), admin.port()) + "/admin/v1");
        return admin;
    }

    synchronized ProxyServer startProxy() {
        // Settlements wait in a journal under the data dir whenever PostgreSQL is away.
        ProxyConfig proxyConfig = config.proxy().toProxyConfig();
        proxyConfig = proxyConfig.withBilling(proxyConfig.billing().withJournalDir(config.dataDir().resolve("journal")));
        ProxyServer proxy = ProxyServer.start(proxyConfig, config.limiterConfig(), config.media().toMediaConfig(), database());
        started.push(new Part("proxy", proxy));
        this.proxy = proxy;
        out.println("proxy     listening on " + config.proxy().host() + ":" + proxy.port()
                + "   " + url(config.proxy().host(), proxy.port()) + "/v1");
        out.println("limits    " + describeLimits(config.redis()));
        return proxy;
    }

    /**
     * Where the rate limits live: {@code in-process (single node)}, or
     * {@code redis <url without password> (fail-open|fail-closed, <timeout> ms)}.
     */
    static String describeLimits(TollgateConfig.RedisSettings redis) {
        if (!redis.enabled()) {
            return "in-process (single node)";
        }
        return "redis " + redis.maskedUrl() + " (fail-" + TollgateConfig.RedisSettings.policyName(redis.failurePolicy())
                + ", " + redis.timeout().toMillis() + " ms)";
    }

    /** The servers started so far; after {@link #close()} none. */
    synchronized Servers servers() {
        return new Servers(proxy, admin);
    }

    /** Blocks until {@link #close()} has run, from the shutdown hook or elsewhere. */
    void awaitClose() throws InterruptedException {
        closed.await();
    }

    /** Closes every part started, newest first; safe to call more than once and from any thread. */
    @Override
    public void close() {
        synchronized (this) {
            boolean serving = started.stream().anyMatch(p -> p.closeable() instanceof ProxyServer
                    || p.closeable() instanceof AdminServer);
            if (serving) {
                out.println("stopping …");
            }
            while (!started.isEmpty()) {
                Part part = started.pop();
                try {
                    part.closeable().close();
                } catch (Exception e) {
                    err.println("error closing " + part.name() + ": " + rootMessage(e));
                }
            }
            database = null;
            proxy = null;
            admin = null;
            if (serving) {
                out.println("stopped");
            }
        }
        closed.countDown();
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to; it finds nothing left to close
            }
        }
    }

    private void createDataDir() {
        try {
            Files.createDirectories(config.dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data dir " + config.dataDir().toAbsolutePath(), e);
        }
    }

    /** How a client on this machine reaches a server bound to {@code host}. */
    static String url(String host, int port) {
        String reachable = switch (host) {
            case "0.0.0.0", "::", "[::]", "" -> "localhost";
            default -> host.contains(":") ? "[" + host + "]" : host;
        };
        return "http://" + reachable + ":" + port;
    }

    /** A JDBC URL fit to print: the query string may carry a password. */
    static String withoutQuery(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
