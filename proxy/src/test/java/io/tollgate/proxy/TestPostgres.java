package io.tollgate.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL cluster owned by one test: initdb into a temporary directory, started with
 * {@code pg_ctl} on a free loopback port, stopped the hard way ({@code -m immediate}, as a crash
 * or a cut cable looks to its clients) and started again on the same port. As root the tools run
 * as the {@code postgres} user, which PostgreSQL insists on. The binaries are the newest under
 * {@code /usr/lib/postgresql/*}/bin, or those in {@code TOLLGATE_PG_BIN}.
 */
final class TestPostgres implements AutoCloseable {

    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private final Path bin;
    private final Path dir;
    private final Path data;
    private final int port;

    private TestPostgres(Path bin, Path dir, int port) {
        this.bin = bin;
        this.dir = dir;
        this.data = dir.resolve("data");
        this.port = port;
    }

    static TestPostgres start() {
        try {
            Path dir = Files.createTempDirectory("tollgate-pg-");
            if (ROOT) {
                UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
                Files.setOwner(dir, users.lookupPrincipalByName("postgres"));
            }
            TestPostgres pg = new TestPostgres(binaries(), dir, freePort());
            pg.run("initdb", "-D", pg.data.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync");
            pg.startServer();
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The JDBC URL of the cluster's {@code postgres} database. */
    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
    }

    int port() {
        return port;
    }

    /** Starts the stopped cluster again on the same port, after crash recovery if it was killed. */
    void startServer() {
        run("pg_ctl", "-D", data.toString(), "-l", dir.resolve("postgres.log").toString(), "-w", "-t", "60",
                "-o", "-c port=" + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir
                        + " -c fsync=off -c full_page_writes=off -c max_connections=50",
                "start");
    }

    /** Starts it unless it runs (a test that failed mid-outage must not leave the next without one). */
    void startServerIfStopped() {
        if (!Files.exists(data.resolve("postmaster.pid"))) {
            startServer();
        }
    }

    /** Stops at once: every backend is killed, clients see their connections drop. */
    void stopImmediately() {
        run("pg_ctl", "-D", data.toString(), "-m", "immediate", "-w", "stop");
    }

    @Override
    public void close() {
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                stopImmediately();
            }
        } catch (RuntimeException e) {
            // deleting anyway
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory; the OS cleans it eventually
        }
    }

    private void run(String tool, String... args) {
        List<String> cmd = new ArrayList<>();
        if (ROOT) {
            cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        cmd.add(bin.resolve(tool).toString());
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            // pg_ctl start leaves the server running with our pipe inherited unless -l is given; it is.
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8)
                        + "\n" + log());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String log() {
        try {
            Path log = dir.resolve("postgres.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static Path binaries() throws IOException {
        String configured = System.getenv("TOLLGATE_PG_BIN");
        if (configured != null) {
            return Path.of(configured);
        }
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparingInt(b -> Integer.parseInt(b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
                    .orElseThrow(() -> new IllegalStateException("no PostgreSQL binaries in /usr/lib/postgresql"));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
