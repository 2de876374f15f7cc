package io.tollgate.app;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL server (binaries from Maven Central) run from the data dir, for a process
 * that has no database configured. Its files survive restarts; it listens on localhost only.
 *
 * <p>PostgreSQL refuses to run as root. zonky's launcher then runs it through {@code unshare -U},
 * in a user namespace where it is not root, so {@code ./tollgate} works as root too.
 */
public final class EmbeddedDatabase implements AutoCloseable {

    public static final String DATABASE = "tollgate";
    private static final String SUPERUSER = "postgres";
    /** The file zonky locks inside the PostgreSQL data directory while it runs there. */
    private static final String LOCK_FILE = "epg-lock";

    private final EmbeddedPostgres postgres;
    private final Path directory;

    private EmbeddedDatabase(EmbeddedPostgres postgres, Path directory) {
        this.postgres = postgres;
        this.directory = directory;
    }

    /**
     * Starts PostgreSQL on {@code dataDir/pg} (created on first start) on a free localhost port,
     * with its server log in {@code dataDir/postgres.log}, and makes sure the {@value #DATABASE}
     * database exists.
     */
    public static EmbeddedDatabase start(Path dataDir) {
        Path directory = dataDir.resolve("pg").toAbsolutePath();
        Path log = dataDir.resolve("postgres.log").toAbsolutePath();
        if (Files.exists(directory.resolve("postgresql.conf"))) {
            requireUnused(directory);
            stopOrphan(directory);
        }
        try {
            Files.createDirectories(directory);
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(directory)
                    .setCleanDataDirectory(false)
                    // Our own shutdown hook stops it, after the servers that use it.
                    .setRegisterShutdownHook(false)
                    // A fresh port each start: nothing outside this process connects to it, and two
                    // data dirs can run side by side.
                    .setPort(0)
                    // The locale of the environment must not decide whether initdb works.
                    .setLocaleConfig("locale", "C")
                    // zonky turns this off for tests; here the ledger lives in it.
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("max_connections", "100")
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            EmbeddedDatabase db = new EmbeddedDatabase(postgres, directory);
            db.createDatabase();
            return db;
        } catch (IOException | RuntimeException e) {
            String hint = refusedRoot(log)
                    ? "; PostgreSQL does not run as root, and a user namespace (unshare -U) is not available here:"
                    + " run Tollgate as another user or set TOLLGATE_DATABASE_URL"
                    : "";
            throw new IllegalStateException("embedded PostgreSQL in " + directory + " did not start: " + e.getMessage()
                    + " (its log: " + log + ")" + hint, e);
        }
    }

    private static boolean refusedRoot(Path log) {
        try {
            return Files.readString(log).contains("cannot be run as root");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The JDBC URL of the {@value #DATABASE} database, user and all. */
    public String jdbcUrl() {
        return postgres.getJdbcUrl(SUPERUSER, DATABASE);
    }

    public int port() {
        return postgres.getPort();
    }

    public Path directory() {
        return directory;
    }

    private void createDatabase() {
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl(SUPERUSER, "postgres"))) {
            try (PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
                exists.setString(1, DATABASE);
                try (ResultSet rs = exists.executeQuery()) {
                    if (rs.next()) {
                        return;
                    }
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + DATABASE);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + DATABASE + " in embedded PostgreSQL", e);
        }
    }

    /**
     * zonky holds a file lock on {@code epg-lock} while its server runs; a lock we cannot take
     * means a live Tollgate uses this data dir, and its PostgreSQL must be left alone.
     */
    private static void requireUnused(Path directory) {
        Path lockFile = directory.resolve(LOCK_FILE);
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                throw new IllegalStateException(inUse(directory));
            }
            lock.release();
        } catch (OverlappingFileLockException e) {
            throw new IllegalStateException(inUse(directory), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check the lock " + lockFile, e);
        }
    }

    private static String inUse(Path directory) {
        return "another Tollgate process uses the data dir " + directory.getParent()
                + "; stop it or set TOLLGATE_DATA_DIR to another directory";
    }

    /**
     * A previous run killed without its shutdown hook (kill -9) leaves its postmaster running on
     * the data dir, and a new one could not start there. Stop it if it is still around.
     */
    private static void stopOrphan(Path directory) {
        Path pidFile = directory.resolve("postmaster.pid");
        List<String> lines;
        try {
            lines = Files.readAllLines(pidFile);
        } catch (IOException e) {
            return;                                             // no postmaster.pid: nothing runs there
        }
        if (lines.isEmpty()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(lines.getFirst().strip());
        } catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid)
                .filter(p -> p.info().command().map(cmd -> cmd.endsWith("/postgres")).orElse(false));
        if (process.isEmpty()) {
            return;                                             // stale file: PostgreSQL starts over it itself
        }
        // SIGTERM: PostgreSQL's "smart" shutdown; its clients died with the old process.
        process.get().destroy();
        try {
            process.get().onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("PostgreSQL (pid " + pid + ") still runs on " + directory
                    + "; is another Tollgate using this data dir?", e);
        }
    }

    /** Stops PostgreSQL (fast shutdown), keeping its files. */
    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
