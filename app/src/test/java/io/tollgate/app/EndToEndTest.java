package io.tollgate.app;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.tollgate.schema.TestDatabase;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole product in one JVM, started the way {@code tollgate all} starts it (the picocli command,
 * ports 0, a fresh database), driven over real HTTP as an admin and a user would: configure an
 * upstream and a model, open an account, top it up, issue a key, call the proxy with it, change the
 * key and watch every proxy answer follow within a second, then read back the request log and the
 * ledger.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class EndToEndTest {

    private static final String ADMIN_TOKEN = "e2e-admin-token-0123456789";
    private static final String MODEL = "acme/chat-1";
    /** SPEC: admin changes reach every proxy within 1 s. */
    private static final Duration PROPAGATION = Duration.ofSeconds(1);

    private final ObjectMapper json = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build();
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    @TempDir
    Path dataDir;

    private TestDatabase db;
    private Running tollgate;

    @BeforeEach
    void freshDatabase() {
        db = TestDatabase.create();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (tollgate != null) {
                assertThat(tollgate.stop()).as("exit status; stderr:%n%s", tollgate.err()).isZero();
            }
        } finally {
            http.close();
            db.close();
        }
    }

    @Test
    void anAdminSetsUpAModelAndAKeyAndAUserCallsItWhileTheKeyChanges() throws Exception {
        tollgate = start("all");

        // --- the admin: an upstream, a model with '/' in its id, an account with credits, a key
        // A mock upstream needs no api_key: the proxy's built-in mock provider serves it.
        Reply upstream = admin("POST", "/upstreams", Map.of("name", "mock upstream", "provider", "mock",
                "base_url", "http://mock.invalid/v1"));
        assertThat(upstream.status()).as(upstream.text()).isEqualTo(201);
        String upstreamId = upstream.json().path("id").asText();
        assertThat(upstream.json().has("api_key")).isFalse();

        Reply model = admin("PUT", "/models/" + MODEL, Map.of(
                "display_name", "Acme Chat 1",
                "category", "text",
                "capabilities", List.of("chat", "stream"),
                "routes", List.of(Map.of("upstream_id", upstreamId, "upstream_model", "mock-model")),
                "pricing", Map.of("input_per_1m", 1, "output_per_1m", 2, "per_request", new BigDecimal("0.001"))));
        assertThat(model.status()).as(model.text()).isEqualTo(201);
        assertThat(model.json().path("id").asText()).isEqualTo(MODEL);

        Reply account = admin("POST", "/accounts", Map.of("name", "Acme", "tier", "pro"));
        assertThat(account.status()).as(account.text()).isEqualTo(201);
        String accountId = account.json().path("id").asText();

        Reply credit = admin("POST", "/accounts/" + accountId + "/credits", Map.of("amount", 10, "reason", "e2e"));
        assertThat(credit.status()).as(credit.text()).isEqualTo(201);
        assertThat(credit.json().path("balance").decimalValue()).isEqualByComparingTo("10");

        Reply created = admin("POST", "/accounts/" + accountId + "/keys", Map.of("name", "e2e key"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String keyId = created.json().path("id").asText();
        String key = created.json().path("key").asText();
        assertThat(key).startsWith("sk-tg-");

        // --- the user: the model list, a plain chat, a streamed chat
        Calls calls = new Calls();
        Reply models = within(PROPAGATION, () -> calls.add(proxy("GET", "/v1/models", key, null)),
                r -> r.status() == 200 && modelEntry(r, MODEL) != null);
        JsonNode entry = modelEntry(models, MODEL);
        assertThat(entry.path("object").asText()).isEqualTo("model");
        assertThat(entry.path("display_name").asText()).isEqualTo("Acme Chat 1");
        assertThat(entry.path("category").asText()).isEqualTo("text");
        assertThat(entry.path("credit_cost").decimalValue()).isEqualByComparingTo("0.001");
        assertThat(entry.path("pricing").path("per_request").decimalValue()).isEqualByComparingTo("0.001");
        assertThat(entry.path("pricing").path("input_per_1m").decimalValue()).isEqualByComparingTo("1");
        assertThat(entry.path("pricing").path("output_per_1m").decimalValue()).isEqualByComparingTo("2");

        Reply chat = calls.add(chat(key, false));
        assertThat(chat.status()).as(chat.text()).isEqualTo(200);
        assertThat(chat.json().path("object").asText()).isEqualTo("chat.completion");
        assertThat(chat.json().path("choices").path(0).path("message").path("content").asText()).isNotBlank();
        assertThat(chat.json().path("usage").path("completion_tokens").asLong()).isPositive();
        assertThat(chat.requestId()).startsWith("req_");

        Reply streamed = calls.add(chat(key, true));
        assertStreamedAnswer(streamed);

        // --- paused: refused within a second; active again: served within a second
        assertThat(admin("PATCH", "/keys/" + keyId, Map.of("status", "paused")).status()).isEqualTo(200);
        within(PROPAGATION, () -> calls.add(proxy("GET", "/v1/models", key, null)),
                r -> r.status() == 403 && "api_key_paused".equals(r.errorCode()));

        assertThat(admin("PATCH", "/keys/" + keyId, Map.of("status", "active")).status()).isEqualTo(200);
        within(PROPAGATION, () -> calls.add(chat(key, false)), r -> r.status() == 200);

        // --- an allowlist without the model: refused within a second
        assertThat(admin("PATCH", "/keys/" + keyId, Map.of("models", List.of("other"))).status()).isEqualTo(200);
        within(PROPAGATION, () -> calls.add(chat(key, false)),
                r -> r.status() == 403 && "api_key_model_not_allowed".equals(r.errorCode()));
        Reply narrowed = calls.add(proxy("GET", "/v1/models", key, null));
        assertThat(narrowed.status()).isEqualTo(200);
        assertThat(modelEntry(narrowed, MODEL)).as("a key sees only the models it may call").isNull();

        // --- revoked: unknown to the proxy within a second
        assertThat(admin("DELETE", "/keys/" + keyId, null).status()).isEqualTo(204);
        within(PROPAGATION, () -> calls.add(proxy("GET", "/v1/models", key, null)),
                r -> r.status() == 401 && "invalid_api_key".equals(r.errorCode()));

        // --- the request log: one row per request the key was recognised for, and nothing else
        Set<String> recognised = calls.requestIds(r -> r.status() != 401);
        JsonNode rows = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> admin("GET", "/requests?account_id=" + accountId + "&limit=1000", null).json().path("data"),
                        data -> ids(data, "request_id").containsAll(recognised));
        assertThat(ids(rows, "request_id")).as("one row per request").hasSize(rows.size()).isEqualTo(recognised);
        Map<String, JsonNode> rowById = new HashMap<>();
        rows.forEach(row -> rowById.put(row.path("request_id").asText(), row));
        for (Reply served : calls.chatsServed()) {
            JsonNode row = rowById.get(served.requestId());
            assertThat(row.path("status").asInt()).isEqualTo(200);
            assertThat(row.path("model").asText()).isEqualTo(MODEL);
            assertThat(row.path("endpoint").asText()).isEqualTo("/chat/completions");
            assertThat(row.path("key_id").asText()).isEqualTo(keyId);
            assertThat(row.path("upstream_id").asText()).isEqualTo(upstreamId);
            assertThat(row.path("output_tokens").asLong()).isPositive();
            assertThat(row.path("credits").decimalValue()).isGreaterThan(new BigDecimal("0.001"));
        }
        assertThat(rows.findValuesAsText("error_code")).contains("api_key_paused", "api_key_model_not_allowed");

        // --- the ledger: one settlement per served chat, at the logged cost; everything sums to the balance
        int served = calls.chatsServed().size();
        assertThat(served).isGreaterThanOrEqualTo(3);
        JsonNode ledger = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> admin("GET", "/accounts/" + accountId + "/ledger", null).json().path("data"),
                        data -> entries(data, "settlement").size() == served);
        List<JsonNode> topups = entries(ledger, "topup");
        assertThat(topups).hasSize(1);
        assertThat(topups.getFirst().path("amount").decimalValue()).isEqualByComparingTo("10");
        for (JsonNode settlement : entries(ledger, "settlement")) {
            JsonNode row = rowById.get(settlement.path("request_id").asText());
            assertThat(row).as("settlement %s belongs to a served chat", settlement).isNotNull();
            assertThat(settlement.path("amount").decimalValue())
                    .isEqualByComparingTo(row.path("credits").decimalValue().negate());
        }
        BigDecimal sum = StreamSupport.stream(ledger.spliterator(), false)
                .map(e -> e.path("amount").decimalValue())
                .reduce(BigDecimal.ZERO, BigDecimal::add);
        BigDecimal balance = admin("GET", "/accounts/" + accountId, null).json().path("balance").decimalValue();
        assertThat(sum).isEqualByComparingTo(balance);
        assertThat(balance).isLessThan(BigDecimal.TEN);
        assertThat(ledger.path(0).path("balance_after").decimalValue()).as("newest first").isEqualByComparingTo(balance);
    }

    @Test
    void theDemoKeyPrintedByAllDemoStreamsAChat() throws Exception {
        tollgate = start("all", "--demo");

        String out = tollgate.out();
        Matcher printedKey = Pattern.compile("demo key \\(new\\): (\\S+)").matcher(out);
        assertThat(printedKey.find()).as(out).isTrue();
        String key = printedKey.group(1);

        Matcher curl = Pattern.compile("curl -N (\\S+) -H '([^']*)' -H '([^']*)' -d '([^']*)'").matcher(out);
        assertThat(curl.find()).as(out).isTrue();
        URI url = URI.create(curl.group(1));
        assertThat(url.getPort()).isEqualTo(tollgate.proxyPort());
        assertThat(curl.group(2)).isEqualTo("Authorization: Bearer " + key);

        // The printed line, sent as printed.
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(curl.group(4)));
        for (String header : List.of(curl.group(2), curl.group(3))) {
            int colon = header.indexOf(':');
            request.header(header.substring(0, colon).strip(), header.substring(colon + 1).strip());
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        Reply streamed = new Reply(response.statusCode(), response.body(),
                response.headers().firstValue("x-request-id").orElse(null),
                response.headers().firstValue("content-type").orElse(""), response.headers());
        assertStreamedAnswer(streamed);

        Reply account = admin("GET", "/accounts/" + DemoSeed.ACCOUNT_ID, null);
        assertThat(account.status()).isEqualTo(200);
        Reply model = admin("GET", "/models/" + DemoSeed.MODEL_ID, null);
        assertThat(model.status()).isEqualTo(200);
        assertThat(model.json().path("routes").path(0).path("upstream_id").asText()).isEqualTo(DemoSeed.UPSTREAM_ID);
    }

    // ------------------------------------------------------------------ rate limits, as configured

    @Test
    void aProKeyGetsTheConfiguredLimitThen429AndACustomTierCanBeGivenToAnAccount() throws Exception {
        Path config = Files.writeString(dataDir.resolve("tollgate.yaml"), """
                limits:
                  tiers:
                    pro: {general: 2}
                    team: {general: 1}
                """);
        tollgate = start("--config", config.toString(), "all");
        assertThat(tollgate.out()).contains("limits    in-process (single node)");
        mockModel();

        Key pro = fundedKey("pro");
        Reply first = firstAnswerTo(pro);
        assertThat(first.status()).as(first.text()).isEqualTo(200);
        assertThat(first.header("x-ratelimit-limit")).isEqualTo("2");
        assertThat(first.header("x-ratelimit-remaining")).isEqualTo("1");
        assertThat(first.header("x-ratelimit-reset")).isNotNull();

        Reply second = chat(pro.secret(), false);
        assertThat(second.status()).as(second.text()).isEqualTo(200);
        assertThat(second.header("x-ratelimit-remaining")).isEqualTo("0");

        Reply third = chat(pro.secret(), false);
        assertThat(third.status()).as(third.text()).isEqualTo(429);
        assertThat(third.errorCode()).isEqualTo("rate_limit_exceeded");
        assertThat(third.json().path("error").path("type").asText()).isEqualTo("rate_limit_error");
        // GCRA at 2 per minute: the next request fits 30 s after the burst
        assertThat(Long.parseLong(third.header("retry-after"))).isBetween(1L, 30L);
        assertThat(third.header("x-ratelimit-limit")).isEqualTo("2");
        assertThat(third.header("x-ratelimit-remaining")).isEqualTo("0");

        // the refusal cost nothing: two settlements, and a logged 429 at zero credits
        JsonNode ledger = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> admin("GET", "/accounts/" + pro.accountId() + "/ledger", null).json().path("data"),
                        data -> entries(data, "settlement").size() == 2);
        assertThat(entries(ledger, "settlement")).extracting(e -> e.path("request_id").asText())
                .containsExactlyInAnyOrder(first.requestId(), second.requestId());
        JsonNode refused = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> requestRow(pro.accountId(), third.requestId()), row -> row != null);
        assertThat(refused.path("status").asInt()).isEqualTo(429);
        assertThat(refused.path("error_code").asText()).isEqualTo("rate_limit_exceeded");
        assertThat(refused.path("credits").decimalValue()).isEqualByComparingTo("0");
        assertThat(refused.path("upstream_id").isNull() || refused.path("upstream_id").isMissingNode())
                .as("never routed: %s", refused).isTrue();

        // a tier from the file is one the admin API accepts, and its limit applies
        Reply unknownTier = admin("POST", "/accounts", Map.of("name", "Gold", "tier", "gold"));
        assertThat(unknownTier.status()).as(unknownTier.text()).isEqualTo(400);
        Key team = fundedKey("team");
        Reply teamFirst = firstAnswerTo(team);
        assertThat(teamFirst.status()).as(teamFirst.text()).isEqualTo(200);
        assertThat(teamFirst.header("x-ratelimit-limit")).isEqualTo("1");
        Reply teamSecond = chat(team.secret(), false);
        assertThat(teamSecond.status()).as(teamSecond.text()).isEqualTo(429);
        assertThat(teamSecond.header("retry-after")).isNotNull();
    }

    @Test
    void withARedisUrlTheLimitLivesInRedis() throws Exception {
        tollgate = start(Map.of(ConfigLoader.REDIS_URL, "redis://127.0.0.1:6379"), "all");
        assertThat(tollgate.out()).contains("limits    redis redis://127.0.0.1:6379 (fail-open, 50 ms)");
        mockModel();

        Key pro = fundedKey("pro");
        Reply chat = firstAnswerTo(pro);
        assertThat(chat.status()).as(chat.text()).isEqualTo(200);
        assertThat(chat.header("x-ratelimit-limit")).isEqualTo("30");
        assertThat(chat.header("x-ratelimit-remaining")).isEqualTo("29");
        // The key's TAT lives one emission interval (2 s at 30 per minute) past the last request.
        assertThat(redis("EXISTS", "rl:{" + pro.id() + "}:general")).isEqualTo(":1");
    }

    // ------------------------------------------------------------------ message limits and content rules, as configured

    @Test
    void configuredContentRulesAndMessageLimitsRefuseOnlyTheChatsThatBreakThem() throws Exception {
        Path config = Files.writeString(dataDir.resolve("tollgate.yaml"), """
                proxy:
                  max_messages: 2
                  content_rules:
                    keywords: [forbidden fruit]
                    patterns: ['(?i)secret\\s+plan']
                """);
        tollgate = start("--config", config.toString(), "all");
        mockModel();                                   // its probe chat ("Hello, Tollgate!") is served: 200
        Key key = fundedKey("max");

        Reply clean = firstAnswerTo(key);
        assertThat(clean.status()).as(clean.text()).isEqualTo(200);
        assertThat(clean.json().path("object").asText()).isEqualTo("chat.completion");

        Reply keyword = chatSaying(key.secret(), "I would like the FORBIDDEN fruit, please");
        assertThat(keyword.status()).as(keyword.text()).isEqualTo(403);
        assertThat(keyword.errorCode()).isEqualTo("content_filter");
        assertThat(keyword.json().path("error").path("type").asText()).isEqualTo("permission_error");
        assertThat(keyword.text()).as("the answer does not say which rule").doesNotContainIgnoringCase("forbidden fruit");

        Reply pattern = chatSaying(key.secret(), "here is the Secret   Plan");
        assertThat(pattern.status()).as(pattern.text()).isEqualTo(403);
        assertThat(pattern.errorCode()).isEqualTo("content_filter");

        Reply tooMany = chatSaying(key.secret(), "one", "two", "three");
        assertThat(tooMany.status()).as(tooMany.text()).isEqualTo(400);
        assertThat(tooMany.errorCode()).isEqualTo("too_many_messages");

        Reply twoClean = chatSaying(key.secret(), "a fruit", "a plan");
        assertThat(twoClean.status()).as(twoClean.text()).isEqualTo(200);
    }

    /** A key just issued, its secret, and its account. */
    private record Key(String id, String secret, String accountId) {
    }

    /**
     * The mock upstream and {@link #MODEL} on it, then waits until the proxy serves the model (to a
     * throwaway max-tier key), so a key issued afterwards meets a proxy that already knows the model.
     */
    private void mockModel() {
        Reply upstream = admin("POST", "/upstreams", Map.of("name", "mock upstream", "provider", "mock",
                "base_url", "http://mock.invalid/v1"));
        assertThat(upstream.status()).as(upstream.text()).isEqualTo(201);
        Reply model = admin("PUT", "/models/" + MODEL, Map.of(
                "category", "text",
                "routes", List.of(Map.of("upstream_id", upstream.json().path("id").asText(), "upstream_model", "mock-model")),
                "pricing", Map.of("per_request", new BigDecimal("0.001"))));
        assertThat(model.status()).as(model.text()).isEqualTo(201);
        Key probe = fundedKey("max");
        within(PROPAGATION, () -> chat(probe.secret(), false), r -> r.status() == 200);
    }

    private Key fundedKey(String tier) {
        Reply account = admin("POST", "/accounts", Map.of("name", "rl " + tier, "tier", tier));
        assertThat(account.status()).as(account.text()).isEqualTo(201);
        String accountId = account.json().path("id").asText();
        Reply credit = admin("POST", "/accounts/" + accountId + "/credits", Map.of("amount", 10, "reason", "e2e"));
        assertThat(credit.status()).as(credit.text()).isEqualTo(201);
        Reply created = admin("POST", "/accounts/" + accountId + "/keys", Map.of("name", "rl key"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        return new Key(created.json().path("id").asText(), created.json().path("key").asText(), accountId);
    }

    /**
     * The first chat the proxy answers for a fresh key: polls while the key is still unknown
     * (401s are refused before the limiter, so they spend none of the key's budget).
     */
    private Reply firstAnswerTo(Key key) {
        return within(PROPAGATION, () -> chat(key.secret(), false), r -> r.status() != 401);
    }

    private JsonNode requestRow(String accountId, String requestId) {
        for (JsonNode row : admin("GET", "/requests?account_id=" + accountId + "&limit=1000", null).json().path("data")) {
            if (requestId.equals(row.path("request_id").asText())) {
                return row;
            }
        }
        return null;
    }

    /** One command to the local Redis over plain RESP; its first reply line (":1" for EXISTS of a key). */
    private static String redis(String... args) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", 6379)) {
            socket.setSoTimeout(5_000);
            StringBuilder command = new StringBuilder("*").append(args.length).append("\r\n");
            for (String arg : args) {
                command.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n")
                        .append(arg).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(command.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    // ------------------------------------------------------------------ the product, started as `tollgate …`

    /** One {@code tollgate} command running on its own thread, as {@code main} would run it. */
    private record Running(Launcher launcher, CompletableFuture<Integer> exit, ByteArrayOutputStream stdout,
                           ByteArrayOutputStream stderr) {

        int proxyPort() {
            return launcher.servers().proxy().port();
        }

        int adminPort() {
            return launcher.servers().admin().port();
        }

        String out() {
            return stdout.toString(StandardCharsets.UTF_8);
        }

        String err() {
            return stderr.toString(StandardCharsets.UTF_8);
        }

        /** Stops it as SIGTERM would and returns the exit status. */
        int stop() throws Exception {
            launcher.close();
            return exit.get(30, TimeUnit.SECONDS);
        }
    }

    private Running start(String... args) throws Exception {
        return start(Map.of(), args);
    }

    /** @param extraEnv more TOLLGATE_* variables, on top of the database, data dir, ports 0 and admin token */
    private Running start(Map<String, String> extraEnv, String... args) throws Exception {
        Map<String, String> env = new HashMap<>(extraEnv);
        env.putAll(Map.of(
                ConfigLoader.DATABASE_URL, db.url(),
                ConfigLoader.DATA_DIR, dataDir.toString(),
                ConfigLoader.PROXY_PORT, "0",
                ConfigLoader.ADMIN_PORT, "0",
                ConfigLoader.ADMIN_TOKEN, ADMIN_TOKEN));
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(stdout, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(stderr, true, StandardCharsets.UTF_8);
        CompletableFuture<Launcher> ready = new CompletableFuture<>();
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread main = new Thread(() -> {
            try {
                exit.complete(Tollgate.commandLine(env, out, err, ready::complete).execute(args));
            } catch (Throwable t) {
                exit.completeExceptionally(t);
            }
            ready.completeExceptionally(new IllegalStateException("tollgate exited before it was ready: "
                    + stderr.toString(StandardCharsets.UTF_8)));
        }, "tollgate-main");
        main.start();
        Launcher launcher = ready.get(60, TimeUnit.SECONDS);
        Running running = new Running(launcher, exit, stdout, stderr);
        assertThat(running.out()).contains("proxy     listening on", "admin     listening on", "ready");
        return running;
    }

    // ------------------------------------------------------------------ HTTP, as clients send it

    /** One answer; the body kept as text, parsed on demand. */
    private record Reply(int status, String text, String requestId, String contentType, HttpHeaders headers) {

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        JsonNode json() {
            try {
                return new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).readTree(text);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON (" + status + "): " + text, e);
            }
        }

        String errorCode() {
            return status >= 400 ? json().path("error").path("code").asText(null) : null;
        }

        boolean isChat() {
            return status == 200 && (contentType.startsWith("text/event-stream") || json().has("choices"));
        }
    }

    /** Every proxy answer this test saw, in order. */
    private static final class Calls {
        private final List<Reply> replies = new ArrayList<>();

        Reply add(Reply r) {
            replies.add(r);
            return r;
        }

        Set<String> requestIds(java.util.function.Predicate<Reply> which) {
            Set<String> ids = new HashSet<>();
            for (Reply r : replies) {
                if (which.test(r)) {
                    assertThat(r.requestId()).as("X-Request-Id of %s", r).isNotNull();
                    assertThat(ids.add(r.requestId())).as("request ids are unique").isTrue();
                }
            }
            return ids;
        }

        List<Reply> chatsServed() {
            return replies.stream().filter(Reply::isChat).toList();
        }
    }

    private Reply admin(String method, String path, Object body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tollgate.adminPort()
                        + "/admin/v1" + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(write(body)))
                .build();
        return send(request);
    }

    private Reply proxy(String method, String path, String key, Object body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + tollgate.proxyPort() + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(write(body)))
                .build();
        return send(request);
    }

    private Reply chat(String key, boolean stream) {
        Map<String, Object> body = new HashMap<>();
        body.put("model", MODEL);
        body.put("messages", List.of(Map.of("role", "user", "content", "Hello, Tollgate!")));
        if (stream) {
            body.put("stream", true);
        }
        return proxy("POST", "/v1/chat/completions", key, body);
    }

    /** A plain chat whose user messages say {@code texts}, one message each. */
    private Reply chatSaying(String key, String... texts) {
        List<Map<String, String>> messages = new ArrayList<>();
        for (String text : texts) {
            messages.add(Map.of("role", "user", "content", text));
        }
        return proxy("POST", "/v1/chat/completions", key, Map.of("model", MODEL, "messages", messages));
    }

    private Reply send(HttpRequest request) {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Reply(response.statusCode(), response.body(),
                    response.headers().firstValue("x-request-id").orElse(null),
                    response.headers().firstValue("content-type").orElse(""), response.headers());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String write(Object body) {
        try {
            return json.writeValueAsString(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ what the answers must look like

    /** A streamed chat: SSE events, text in the deltas, [DONE] last, and no usage chunk nobody asked for. */
    private void assertStreamedAnswer(Reply streamed) throws IOException {
        assertThat(streamed.status()).as(streamed.text()).isEqualTo(200);
        assertThat(streamed.contentType()).startsWith("text/event-stream");
        assertThat(streamed.requestId()).isNotNull();
        List<String> data = streamed.text().lines()
                .filter(l -> l.startsWith("data:"))
                .map(l -> l.substring("data:".length()).strip())
                .toList();
        assertThat(data).hasSizeGreaterThan(2);
        assertThat(data.getLast()).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        for (String event : data.subList(0, data.size() - 1)) {
            JsonNode chunk = json.readTree(event);
            assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(chunk.path("choices").size()).as("no usage-only chunk: %s", event).isPositive();
            assertThat(chunk.path("usage").isObject()).as("no usage the client did not ask for: %s", event).isFalse();
            text.append(chunk.path("choices").path(0).path("delta").path("content").asText(""));
        }
        assertThat(text.toString()).isNotBlank();
    }

    private static JsonNode modelEntry(Reply models, String id) {
        for (JsonNode m : models.json().path("data")) {
            if (id.equals(m.path("id").asText())) {
                return m;
            }
        }
        return null;
    }

    private static Set<String> ids(JsonNode list, String field) {
        Set<String> ids = new HashSet<>();
        list.forEach(row -> ids.add(row.path(field).asText()));
        return ids;
    }

    private static List<JsonNode> entries(JsonNode ledger, String kind) {
        return StreamSupport.stream(ledger.spliterator(), false)
                .filter(e -> kind.equals(e.path("kind").asText()))
                .toList();
    }

    /**
     * Polls {@code call} until its answer passes {@code done}, failing if that takes longer than
     * {@code atMost}: how fast a change made through the admin API reaches the proxy.
     */
    private static Reply within(Duration atMost, java.util.concurrent.Callable<Reply> call,
                                java.util.function.Predicate<Reply> done) {
        return fast(atMost).until(call, done);
    }

    private static ConditionFactory fast(Duration atMost) {
        return await().atMost(atMost).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20));
    }
}
