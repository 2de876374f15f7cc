package io.tollgate.bench;

import io.tollgate.proxy.ProxyConfig;
import io.tollgate.proxy.Transport;
import io.tollgate.proxy.ProxyServer;
import io.tollgate.proxy.chat.ContentRules;
import io.tollgate.proxy.limit.LimiterConfig;
import io.tollgate.schema.Account;
import io.tollgate.schema.AccountStore;
import io.tollgate.schema.Database;
import io.tollgate.schema.Ids;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.Model;
import io.tollgate.schema.ModelStore;
import io.tollgate.schema.Pricing;
import io.tollgate.schema.RateLimits;
import io.tollgate.schema.Route;
import io.tollgate.schema.Upstream;
import io.tollgate.schema.UpstreamStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * Tollgate as the benchmark's contender, every feature on: a fresh database of its own on the
 * local PostgreSQL, migrated and seeded with one funded account, one key, an {@code openai}
 * upstream pointing at the mock upstream process and one priced model; the rate limit in Redis,
 * the billing journal on disk, message limits and content rules; then the real
 * {@link ProxyServer} until killed. The database and the journal are dropped on exit (SIGTERM / Ctrl-C).
 *
 * <p>Prints one line the harness waits for, then a stats line every second:
 * <pre>
 * tollgate-bench-server ready port=41234 key=sk-tg-… model=bench-chat database=tg_bench_… pid=1234 features=… gc=Serial
 * tollgate-bench-server stats pending_outcomes=0
 * </pre>
 */
@Command(name = "tollgate-bench-server", mixinStandardHelpOptions = true,
        description = "Runs the Tollgate proxy on a fresh, seeded database until killed.")
public final class TollgateBenchServer implements Callable<Integer> {

    /** The key the mock upstream is started with; the proxy must put it in place of the client's. */
    public static final String UPSTREAM_KEY = "sk-bench-upstream";
    public static final String MODEL = "bench-chat";
    public static final String UPSTREAM_MODEL = "mock-model";
    /** gpt-4o-mini-like prices, so reservation and settlement do real decimal work. */
    static final Pricing PRICING = new Pricing(new BigDecimal("0.0001"), new BigDecimal("0.15"),
            new BigDecimal("0.60"), null, null);
    /** Far beyond what any run can spend or ask for. */
    static final BigDecimal CREDITS = new BigDecimal("1000000000000");
    static final RateLimits UNLIMITED = new RateLimits(100_000_000, 100_000_000, 100_000_000);
    /**
     * What a relay site filters: a few banned phrases and two patterns (a card number, a secret
     * key pasted into a prompt). None matches the bench's bodies, so every request pays the scan.
     */
    public static final List<String> CONTENT_KEYWORDS =
            List.of("ignore all previous instructions", "build a bomb", "credit card dump");
    public static final List<String> CONTENT_PATTERNS = List.of("\\b(?:\\d[ -]?){13,16}\\b", "sk-[A-Za-z0-9]{32,}");
    public static final ContentRules CONTENT_RULES = ContentRules.of(CONTENT_KEYWORDS, CONTENT_PATTERNS);

    @Option(names = "--upstream", required = true,
            description = "base URL of the mock upstream, with its version path (http://127.0.0.1:9999/v1)")
    String upstreamUrl;

    @Option(names = "--host", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Option(names = "--port", description = "port to bind, 0 for any (default: ${DEFAULT-VALUE})")
    int port = 0;

    @Option(names = "--io-threads", description = "proxy event loops, 0 for one per core (default: ${DEFAULT-VALUE})")
    int ioThreads = 0;

    @Option(names = "--transport", description = "the event loops' socket layer, as proxy.transport: " + Transport.CHOICES
            + " (default: ${DEFAULT-VALUE})")
    String transport = "auto";

    @Option(names = "--busy-poll-us", description = "how long a loop polls before it sleeps, as proxy.busy_poll_us "
            + "(default: ${DEFAULT-VALUE}, as shipped)")
    int busyPollMicros = 0;

    @Option(names = "--pool-size", description = "database connections, as database.pool_size (default: ${DEFAULT-VALUE})")
    int poolSize = 10;

    @Option(names = "--redis", description = "Redis URL of the rate limit, or none for the in-process limiter "
            + "(default: $TOLLGATE_BENCH_REDIS or ${DEFAULT-VALUE} when it answers, else none)")
    String redisUrl = System.getenv().getOrDefault("TOLLGATE_BENCH_REDIS", "redis://127.0.0.1:6379");

    @Option(names = "--lease-ms", description = "with Redis, redis.lease_ms: how far ahead a fast key's requests are taken "
            + "in one call, 0 for a Redis call per request (default: ${DEFAULT-VALUE}, as shipped)")
    int leaseMs = (int) LimiterConfig.DEFAULT_LEASE_WINDOW.toMillis();

    @Option(names = "--upstream-pool-idle", description = "idle upstream connections kept per event loop "
            + "(default: ${DEFAULT-VALUE}, as shipped)")
    int upstreamPoolIdle = ProxyConfig.DEFAULT_POOL_MAX_IDLE;

    @Option(names = "--upstream-spares", description = "spare upstream connections opened ahead per event loop "
            + "while pooled ones are reused, 0 for none (default: ${DEFAULT-VALUE}, as shipped)")
    int upstreamSpares = ProxyConfig.DEFAULT_POOL_SPARES;

    @Option(names = "--no-content-rules", description = "run without the content rules (for comparisons)")
    boolean noContentRules;

    @Option(names = "--loop-lag-ms", description = "log each time an event loop runs a 1 ms tick this many ms late or"
            + " more, with its thread's CPU and run-queue wait over the gap (LoopLagProbe); 0: off (default: ${DEFAULT-VALUE})")
    int loopLagMs;

    @Option(names = "--no-journal", description = "keep outcomes in memory instead of the on-disk billing journal")
    boolean noJournal;

    @Option(names = "--pg", description = "JDBC URL of a database on the server to create the bench database on "
            + "(default: $TOLLGATE_BENCH_PG or ${DEFAULT-VALUE})")
    String adminUrl = System.getenv().getOrDefault("TOLLGATE_BENCH_PG",
            "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");

    public static void main(String[] args) {
        int exit = commandLine(new TollgateBenchServer()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    /**
     * The command line for {@code server}. The suite puts its own options first,
     * TOLLGATE_BENCH_SERVER_ARGS and a B side's after them: a later one wins, so that an A/B may
     * differ in an option the suite sets ({@code --transport}).
     */
    static CommandLine commandLine(TollgateBenchServer server) {
        return new CommandLine(server).setOverwrittenOptionsAllowed(true);
    }

    @Override
    public Integer call() throws InterruptedException {
        String name = "tg_bench_" + Ids.random(10).toLowerCase();
        AtomicReference<Database> database = new AtomicReference<>();
        AtomicReference<ProxyServer> proxy = new AtomicReference<>();
        CountDownLatch stopped = new CountDownLatch(1);
        // One way out, for SIGTERM and for a failed start alike: close, then drop the database.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                if (proxy.get() != null) {
                    proxy.get().close();
                }
                if (database.get() != null) {
                    database.get().close();
                }
                execAdmin(adminUrl, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
                System.out.println("tollgate-bench-server stopped, dropped " + name);
            } finally {
                stopped.countDown();
            }
        }, "tollgate-bench-shutdown"));

        execAdmin(adminUrl, "CREATE DATABASE " + name);
        database.set(Database.open(new Database.Config(databaseUrl(adminUrl, name), null, null, poolSize)));
        database.get().migrate();
        String key = seed(database.get(), upstreamUrl);
        ProxyConfig config = ProxyConfig.defaults().withHostPort(host, port).withIoThreads(ioThreads)
                .withTransport(Transport.named(transport)).withBusyPoll(Duration.of(busyPollMicros, ChronoUnit.MICROS));
        config = config.withUpstreamPool(config.poolIdleTimeout(), upstreamPoolIdle).withUpstreamSpares(upstreamSpares);
        List<String> features = new java.util.ArrayList<>(List.of("key-check", "credit-leases", "settlement", "request-log",
                "message-limits"));
        if (!noContentRules) {
            config = config.withContentRules(CONTENT_RULES);
            features.add("content-rules");
        }
        if (!noJournal) {
            Path journal = journalDir(name);
            config = config.withBilling(config.billing().withJournalDir(journal));
            features.add("journal");
        }
        LimiterConfig limits = LimiterConfig.defaults();
        if (!redisUrl.equals("none") && answers(redisUrl)) {
            limits = limits.withRedisUrl(redisUrl).withLeaseWindow(Duration.ofMillis(leaseMs));
            features.add(leaseMs == 0 ? "redis-rate-limit-per-request" : "redis-rate-limit-lease-" + leaseMs + "ms");
        } else {
            features.add("in-process-rate-limit");
        }
        proxy.set(ProxyServer.start(config, limits, database.get()));
        if (loopLagMs > 0) {
            LoopLagProbe.start(proxy.get().eventLoops(), Duration.ofMillis(1), Duration.ofMillis(loopLagMs), late -> {
                System.out.println(late);
                System.out.flush();
            });
            features.add("loop-lag-probe-" + loopLagMs + "ms");
        }

        System.out.printf("tollgate-bench-server ready port=%d key=%s model=%s database=%s pid=%d features=%s gc=%s"
                        + " transport=%s%n",
                proxy.get().port(), key, MODEL, name, ProcessHandle.current().pid(), String.join(",", features),
                collector(), config.transport().configName());
        System.out.flush();
        // The harness reads this to let settlement catch up between measurements.
        while (!stopped.await(1, TimeUnit.SECONDS)) {
            System.out.println("tollgate-bench-server stats pending_outcomes=" + proxy.get().pendingOutcomes());
            System.out.flush();
        }
        return 0;
    }

    /** The garbage collector the JVM runs with, by the name of its options (the JVM picks one when none is given). */
    static String collector() {
        String beans = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(GarbageCollectorMXBean::getName).collect(Collectors.joining(","));
        if (beans.contains("G1")) {
            return "G1";
        }
        if (beans.contains("ZGC")) {
            return "ZGC";
        }
        if (beans.contains("Shenandoah")) {
            return "Shenandoah";
        }
        if (beans.contains("PS ")) {
            return "Parallel";
        }
        if (beans.contains("Copy")) {
            return "Serial";
        }
        return beans.replace(' ', '_');
    }

    /** A fresh journal directory, deleted when this JVM exits. */
    private static Path journalDir(String name) {
        try {
            Path dir = Files.createTempDirectory(name + "-journal-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir), "tollgate-bench-journal-cleanup"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }

    /** Whether something listens at the URL's host and port (the limiter itself reports Redis errors). */
    private static boolean answers(String url) {
        URI uri = URI.create(url);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort()), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** One account with plenty of credits, one key of it, the upstream and the model; returns the key. */
    static String seed(Database database, String upstreamUrl) {
        var ds = database.dataSource();
        AccountStore accounts = new AccountStore(ds);
        Account account = accounts.create("bench", "max");
        accounts.credit(account.id(), CREDITS, AccountStore.KIND_TOPUP, "bench", null);
        KeyStore.Created key = new KeyStore(ds).create(account.id(), "bench", null, null, null, UNLIMITED, 3);
        Upstream upstream = new UpstreamStore(ds).create("mock-upstream", "openai", upstreamUrl, UPSTREAM_KEY, 1, 0, true);
        Instant now = Instant.now();
        new ModelStore(ds).put(new Model(MODEL, "Bench chat", "text", List.of("chat"),
                List.of(new Route(upstream.id(), UPSTREAM_MODEL)), PRICING, 4096, true, true, null, now, now));
        return key.plaintext();
    }

    /** The admin URL with its database name replaced by {@code name}. */
    static String databaseUrl(String adminUrl, String name) {
        return adminUrl.replaceFirst("/[A-Za-z0-9_]+(\\?|$)", "/" + name + "$1");
    }

    private static void execAdmin(String adminUrl, String sql) {
        try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL at " + adminUrl + " refused: " + sql + ": " + e.getMessage(), e);
        }
    }
}
