package io.tollgate.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.proxy.billing.BillingConfig;
import io.tollgate.proxy.billing.Journal;
import io.tollgate.proxy.billing.Prices;
import io.tollgate.schema.Account;
import io.tollgate.schema.AccountStore;
import io.tollgate.schema.ApiKeySecrets;
import io.tollgate.schema.BillingStore;
import io.tollgate.schema.Database;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.Model;
import io.tollgate.schema.ModelStore;
import io.tollgate.schema.RateLimits;
import io.tollgate.schema.Route;
import io.tollgate.schema.Upstream;
import io.tollgate.schema.UpstreamStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 5, item 8: PostgreSQL goes away under load and comes back, and the books still equal what
 * the clients were answered. A test-owned cluster is stopped with {@code pg_ctl -m immediate}
 * while clients keep sending chats: those the held credit slices cover are answered 200, the rest
 * 503; every outcome waits in the journal and is applied once the database is back, or, when the
 * proxy was killed meanwhile, by the next proxy on the same journal. Replaying a journal twice
 * changes nothing.
 */
class DatabaseOutageTest {

    private static final Duration LEASE_TTL = Duration.ofSeconds(6);
    private static final Duration CATALOG_STALENESS = Duration.ofSeconds(2);
    private static final BigDecimal INITIAL = new BigDecimal("100");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    private static TestPostgres pg;
    private static Database db;
    private static AccountStore accounts;
    private static KeyStore keys;
    private static final List<AutoCloseable> closeAfterEach = new ArrayList<>();
    private static Process child;

    /** The proxy configuration both tests (and the child process) run with. */
    static ProxyConfig config(Path journal, Duration leaseTtl) {
        return Gateway.config()
                .withCatalogStaleness(CATALOG_STALENESS)
                .withBilling(BillingConfig.defaults().withJournalDir(journal).withCreditLeaseTtl(leaseTtl));
    }

    @BeforeAll
    static void startPostgres() {
        pg = TestPostgres.start();
        db = Database.open(new Database.Config(pg.jdbcUrl(), null, null, 8));
        db.migrate();
        accounts = new AccountStore(db.dataSource());
        keys = new KeyStore(db.dataSource());
        // Provider "mock": the proxy's built-in mock answers, so a proxy in another process needs nothing more.
        Upstream upstream = new UpstreamStore(db.dataSource()).create("mock", "mock", "http://127.0.0.1:1/v1", null, 1, 0, true);
        Instant now = Instant.now();
        new ModelStore(db.dataSource()).put(new Model(Gateway.MODEL, Gateway.MODEL, "text", List.of("chat"),
                List.of(new Route(upstream.id(), "mock-model")), Gateway.PRICING, 1000, true, true, null, now, now));
    }

    @AfterEach
    void closeProxies() throws Exception {
        if (child != null) {
            child.destroyForcibly().waitFor();
            child = null;
        }
        for (AutoCloseable c : closeAfterEach) {
            c.close();
        }
        closeAfterEach.clear();
    }

    @AfterAll
    static void stopPostgres() {
        if (db != null) {
            db.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void outcomesOfAnOutageAreAppliedOnceWhenPostgresReturns() throws Exception {
        Path journal = tmp.resolve("outage-journal");
        ProxyServer proxy = ProxyServer.start(config(journal, LEASE_TTL), Gateway.roomyLimits(), db);
        closeAfterEach.add(proxy);
        Funded a = fund();
        Funded b = fund();
        awaitKnown(proxy, a, b);
        Client client = new Client(proxy.port());
        Answer warm = client.chat(b.key, false);
        assertThat(warm.status).isEqualTo(200);           // b now holds a slice, and sits idle

        try (Load load = new Load(client, a.key, 4)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> load.count(200) >= 40);
            pg.stopImmediately();
            long stoppedAt = System.nanoTime();

            // The allowance: b's slice, renewed at most a third of the TTL ago, still covers it.
            assertThat(client.chat(b.key, false).status).isEqualTo(200);
            await().atMost(Duration.ofSeconds(60)).until(() -> load.countSince(503, stoppedAt) >= 20);
            // ... and past two thirds of the TTL after the last renewal it is over: 503.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
                return client.chat(b.key, false).status == 503;
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> proxy.catalogAge().compareTo(CATALOG_STALENESS) > 0);
            assertThat(proxy.pendingOutcomes()).isPositive();
            assertThat(Journal.read(journal)).isNotEmpty();

            pg.startServer();
            long startedAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(60)).until(() -> load.countSince(200, startedAt) >= 20);
        } finally {
            pg.startServerIfStopped();
        }
        assertThat(client.chat(b.key, false).status).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).until(() -> proxy.pendingOutcomes() == 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.catalogAge().compareTo(CATALOG_STALENESS) < 0);

        List<Answer> all = new ArrayList<>(client.answers);
        assertThat(all).extracting(x -> x.status).contains(200, 503);
        assertBooks(a, all.stream().filter(x -> x.key.equals(a.key)).toList());
        assertBooks(b, all.stream().filter(x -> x.key.equals(b.key)).toList());

        // Nothing stays reserved once this proxy gives its slices back.
        proxy.returnLeases();
        assertThat(number("SELECT reserved FROM accounts WHERE id = ?", a.accountId)).isZero();
        assertThat(number("SELECT reserved FROM accounts WHERE id = ?", b.accountId)).isZero();
    }

    @Test
    void aProxyKilledWhilePostgresIsAwayLosesNothingAndAReplayIsANoOp() throws Exception {
        Path journal = tmp.resolve("crash-journal");
        Funded a = fund();
        child = startChild(journal);
        Client client = new Client(childPort(journal));
        try (Load load = new Load(client, a.key, 4)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> load.count(200) >= 40);
            pg.stopImmediately();
            long stoppedAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(60)).until(() -> load.countSince(503, stoppedAt) >= 10);
        }
        List<Answer> answered = List.copyOf(client.answers);
        assertThat(answered).extracting(x -> x.status).contains(200, 503);
        Set<String> ids = answered.stream().map(x -> x.requestId).collect(Collectors.toSet());
        // The answer goes out before its outcome reaches the journal; wait for the group commit.
        await().atMost(Duration.ofSeconds(10)).until(() -> journaledIds(journal).containsAll(ids));

        child.destroyForcibly().waitFor();                 // SIGKILL: no shutdown hook, no drain
        child = null;
        Path copy = tmp.resolve("crash-journal-copy");
        copyJournal(journal, copy);
        assertThat(journaledIds(copy)).containsAll(ids);   // read before a start applies and deletes it
        pg.startServer();

        try (ProxyServer replay = ProxyServer.start(config(journal, LEASE_TTL), Gateway.roomyLimits(), db)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> replay.pendingOutcomes() == 0);
        }
        assertBooks(a, answered);
        assertThat(segments(journal)).isEmpty();            // applied, so nothing left behind

        // The same records once more, from the copy: every one is in the database already.
        try (ProxyServer again = ProxyServer.start(config(copy, LEASE_TTL), Gateway.roomyLimits(), db)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> again.pendingOutcomes() == 0);
            assertBooks(a, answered);
            // The killed proxy's slice is swept once it expires: nothing stays reserved.
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> number("SELECT reserved FROM accounts WHERE id = ?", a.accountId).signum() == 0);
        }
        assertBooks(a, answered);
    }

    // -- the books

    /**
     * Every 200 has exactly one settlement at the price of the usage it was answered with; the
     * balance and the key's credit_used moved by their sum and nothing else; every answer has
     * exactly one request-log row with its status.
     */
    private static void assertBooks(Funded f, List<Answer> answers) throws SQLException {
        assertThat(answers).allSatisfy(x -> assertThat(x.requestId).isNotNull());
        Map<String, BigDecimal> expectedCosts = new HashMap<>();
        Map<String, Integer> expectedStatus = new HashMap<>();
        for (Answer x : answers) {
            expectedStatus.put(x.requestId, x.status);
            if (x.status == 200) {
                assertThat(x.usage).as("usage of %s", x.requestId).isNotNull();
                expectedCosts.put(x.requestId, Prices.tokens(Gateway.PRICING, x.usage[0], x.usage[1]));
            }
        }
        assertThat(expectedStatus).hasSize(answers.size());  // request ids are unique

        Map<String, BigDecimal> settled = new HashMap<>();
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT request_id, amount FROM ledger WHERE account_id = ? AND kind = 'settlement'")) {
            ps.setString(1, f.accountId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    assertThat(settled.put(rs.getString(1), rs.getBigDecimal(2).negate()))
                            .as("second settlement of %s", rs.getString(1)).isNull();
                }
            }
        }
        assertThat(settled.keySet()).isEqualTo(expectedCosts.keySet());
        expectedCosts.forEach((id, cost) -> assertThat(settled.get(id)).as("cost of %s", id).isEqualByComparingTo(cost));
        BigDecimal total = expectedCosts.values().stream().reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(number("SELECT balance FROM accounts WHERE id = ?", f.accountId)).isEqualByComparingTo(INITIAL.subtract(total));
        assertThat(number("SELECT credit_used FROM api_keys WHERE id = ?", f.keyId)).isEqualByComparingTo(total);

        Map<String, Integer> logged = new HashMap<>();
        Map<String, BigDecimal> loggedCredits = new HashMap<>();
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT request_id, status, credits FROM request_log WHERE key_id = ?")) {
            ps.setString(1, f.keyId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    logged.put(rs.getString(1), rs.getInt(2));
                    loggedCredits.put(rs.getString(1), rs.getBigDecimal(3));
                }
            }
        }
        assertThat(logged).isEqualTo(expectedStatus);
        expectedCosts.forEach((id, cost) -> assertThat(loggedCredits.get(id)).isEqualByComparingTo(cost));
    }

    private static BigDecimal number(String sql, String arg) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBigDecimal(1);
            }
        }
    }

    // -- fixtures

    private record Funded(String accountId, String keyId, String key) {
    }

    private static Funded fund() {
        Account a = accounts.create("outage-" + System.nanoTime(), "pro");
        accounts.credit(a.id(), INITIAL, "topup", "test", null);
        KeyStore.Created k = keys.create(a.id(), "test", null, null, null, RateLimits.NONE, 3);
        return new Funded(a.id(), k.key().id(), k.plaintext());
    }

    private static void awaitKnown(ProxyServer proxy, Funded... funded) {
        for (Funded f : funded) {
            await().atMost(Duration.ofSeconds(5)).until(() -> proxy.catalog().keyByHash(ApiKeySecrets.hash(f.key)) != null);
        }
    }

    private static Process startChild(Path journal) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = tmp.resolve("child-" + journal.getFileName() + ".log");
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                OutageProxyMain.class.getName(), pg.jdbcUrl(), journal.toString(), Long.toString(LEASE_TTL.toSeconds()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    private static int childPort(Path journal) {
        Path log = tmp.resolve("child-" + journal.getFileName() + ".log");
        int[] port = new int[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            if (!child.isAlive()) {
                throw new IllegalStateException("the proxy process exited: " + Files.readString(log));
            }
            for (String line : Files.readAllLines(log)) {
                if (line.startsWith("PORT ")) {
                    port[0] = Integer.parseInt(line.substring(5).trim());
                    return true;
                }
            }
            return false;
        });
        return port[0];
    }

    private static Set<String> journaledIds(Path journal) throws IOException {
        return Journal.read(journal).stream().map(o -> o.log().requestId()).collect(Collectors.toSet());
    }

    private static List<Path> segments(Path journal) throws IOException {
        try (Stream<Path> s = Files.list(journal)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".journal")).toList();
        }
    }

    private static void copyJournal(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (Path p : segments(from)) {
            Files.copy(p, to.resolve(p.getFileName()));
        }
    }

    // -- clients

    /** One answer as a client saw it: status, X-Request-Id, and the usage of a 200. */
    record Answer(String key, long sentAt, int status, String requestId, long[] usage) {
    }

    /** Chats with the proxy and remembers every answer. */
    static final class Client {
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        final URI uri;
        final Queue<Answer> answers = new ConcurrentLinkedQueue<>();
        final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();

        Client(int port) {
            this.uri = URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
        }

        Answer chat(String key, boolean stream) throws IOException, InterruptedException {
            String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"say hello to the gateway\"}],\"model\":\""
                    + Gateway.MODEL + "\"" + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "") + "}";
            long sentAt = System.nanoTime();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri)
                    .timeout(Duration.ofSeconds(30))
                    .header("authorization", "Bearer " + key)
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
            Answer a = new Answer(key, sentAt, r.statusCode(), r.headers().firstValue("x-request-id").orElse(null),
                    r.statusCode() == 200 ? usage(r.body(), stream) : null);
            answers.add(a);
            return a;
        }

        private static long[] usage(String body, boolean stream) throws IOException {
            if (!stream) {
                return usage(JSON.readTree(body));
            }
            long[] found = null;
            for (String line : body.split("\n")) {
                if (line.startsWith("data: ") && !line.startsWith("data: [DONE]")) {
                    long[] u = usage(JSON.readTree(line.substring(6)));
                    if (u != null) {
                        found = u;
                    }
                }
            }
            return found;
        }

        private static long[] usage(JsonNode n) {
            JsonNode u = n.get("usage");
            return u == null || u.isNull() ? null : new long[] {u.get("prompt_tokens").asLong(), u.get("completion_tokens").asLong()};
        }
    }

    /** A few threads chatting back to back, streamed and not, until closed. */
    static final class Load implements AutoCloseable {
        private final Client client;
        private final String key;
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean running = true;

        Load(Client client, String key, int threadCount) {
            this.client = client;
            this.key = key;
            for (int i = 0; i < threadCount; i++) {
                boolean stream = i % 2 == 1;
                Thread t = new Thread(() -> {
                    while (running) {
                        try {
                            client.chat(key, stream);
                        } catch (IOException | RuntimeException e) {
                            client.errors.add(e);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "outage-load-" + i);
                t.setDaemon(true);
                t.start();
                threads.add(t);
            }
        }

        /** Answers with {@code status} so far. */
        long count(int status) {
            return client.answers.stream().filter(a -> a.key.equals(key) && a.status == status).count();
        }

        /** Answers with {@code status} to requests sent after {@code since} (a nanoTime). */
        long countSince(int status, long since) {
            return client.answers.stream()
                    .filter(a -> a.key.equals(key) && a.sentAt - since >= 0 && a.status == status)
                    .count();
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(Duration.ofSeconds(60));
            }
            assertThat(client.errors).as("requests without an answer").isEmpty();
        }
    }
}
