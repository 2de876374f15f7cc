package io.tollgate.proxy;

import io.tollgate.proxy.catalog.Catalog;
import io.tollgate.proxy.mock.MockProvider;
import io.tollgate.schema.Account;
import io.tollgate.schema.AccountStore;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.Model;
import io.tollgate.schema.ModelStore;
import io.tollgate.schema.Pricing;
import io.tollgate.schema.RateLimits;
import io.tollgate.schema.Route;
import io.tollgate.schema.TestDatabase;
import io.tollgate.schema.Upstream;
import io.tollgate.schema.UpstreamStore;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;

import static org.awaitility.Awaitility.await;

/**
 * A whole gateway for one test class: its own database, a mock provider on a real loopback
 * socket, and the proxy on port 0, with helpers that seed accounts, keys and models.
 */
public final class Gateway implements AutoCloseable {

    public static final String MODEL = "test-chat";
    public static final String UPSTREAM_KEY = "sk-upstream-secret";
    public static final Pricing PRICING = new Pricing(new BigDecimal("0.001"), new BigDecimal("2"), new BigDecimal("8"), null, null);

    public final TestDatabase db;
    public final MockProvider mock;
    public final ProxyServer proxy;
    public final AccountStore accounts;
    public final KeyStore keys;
    public final UpstreamStore upstreams;
    public final ModelStore models;
    public final Upstream upstream;
    public final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    public Gateway() {
        this(config());
    }

    /**
     * The default configuration on a loopback port of the system's choosing, but for message
     * limits high enough that tests about something else (large bodies) never meet them.
     */
    public static ProxyConfig config() {
        return specConfig().withMessageLimits(1_000_000, 1_000_000_000);
    }

    /** SPEC's defaults throughout, message limits included, on a loopback port; for ContentLimitsTest. */
    public static ProxyConfig specConfig() {
        return ProxyConfig.defaults().withHostPort("127.0.0.1", 0);
    }

    /**
     * Tier limits high enough that tests about something else never meet them; the tier "tight"
     * keeps SPEC's pro limits for the tests that are about rate limits.
     */
    public static io.tollgate.proxy.limit.LimiterConfig roomyLimits() {
        var roomy = java.util.Map.of(io.tollgate.proxy.limit.LimitClass.GENERAL, 1_000_000,
                io.tollgate.proxy.limit.LimitClass.IMAGE_SUBMIT, 1_000_000,
                io.tollgate.proxy.limit.LimitClass.IMAGE_POLL, 1_000_000);
        var d = io.tollgate.proxy.limit.LimiterConfig.defaults();
        return new io.tollgate.proxy.limit.LimiterConfig(d.redisUrl(), d.timeout(), d.failurePolicy(),
                java.util.Map.of("pro", roomy, "max", roomy, "tight", d.tiers().get("pro")));
    }

    public Gateway(ProxyConfig config) {
        this(config, roomyLimits());
    }

    public Gateway(ProxyConfig config, io.tollgate.proxy.limit.LimiterConfig limits) {
        this(config, limits, io.tollgate.proxy.media.MediaConfig.defaults());
    }

    public Gateway(ProxyConfig config, io.tollgate.proxy.limit.LimiterConfig limits, io.tollgate.proxy.media.MediaConfig media) {
        db = TestDatabase.create();
        mock = MockProvider.start("127.0.0.1", 0, new MockProvider.Options(8, Duration.ZERO, Duration.ZERO, UPSTREAM_KEY));
        accounts = new AccountStore(db.database().dataSource());
        keys = new KeyStore(db.database().dataSource());
        upstreams = new UpstreamStore(db.database().dataSource());
        models = new ModelStore(db.database().dataSource());
        upstream = upstreams.create("mock", "openai", "http://127.0.0.1:" + mock.port() + "/v1", UPSTREAM_KEY, 1, 0, true);
        putModel(MODEL, "mock-model", PRICING, 1000);
        proxy = ProxyServer.start(config, limits, media, db.database());
    }

    public void putModel(String id, String upstreamModel, Pricing pricing, Integer maxOutputTokens) {
        Instant now = Instant.now();
        models.put(new Model(id, id, "text", List.of("chat"), List.of(new Route(upstream.id(), upstreamModel)),
                pricing, maxOutputTokens, true, true, null, now, now));
    }

    /** A model at {@link #PRICING} routed to {@code via}; reload the catalog before relying on it. */
    public void putModel(String id, Upstream via, String upstreamModel, boolean enabled, boolean isPublic) {
        Instant now = Instant.now();
        models.put(new Model(id, id, "text", List.of("chat"), List.of(new Route(via.id(), upstreamModel)),
                PRICING, 1000, enabled, isPublic, null, now, now));
    }

    /** Another key of {@code accountId}, known to the proxy when this returns; returns the plaintext. */
    public String key(String accountId, List<String> models, Instant expiresAt) {
        KeyStore.Created k = keys.create(accountId, "test", models, null, expiresAt, RateLimits.NONE, 3);
        awaitKnown(k.plaintext());
        return k.plaintext();
    }

    /** One number from SQL on the gateway's database, e.g. {@code SELECT count(*) FROM credit_leases}. */
    public BigDecimal queryNumber(String sql) throws SQLException {
        try (Connection c = db.database().dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            BigDecimal n = rs.getBigDecimal(1);
            return n == null ? BigDecimal.ZERO : n;
        }
    }

    /** An account holding {@code balance} credits, and one key of it; returns the plaintext key. */
    public Funded fund(String balance) {
        Account a = accounts.create("acct-" + System.nanoTime(), "pro");
        if (new BigDecimal(balance).signum() > 0) {
            accounts.credit(a.id(), new BigDecimal(balance), "topup", "test", null);
        }
        KeyStore.Created k = keys.create(a.id(), "test", null, null, null, RateLimits.NONE, 3);
        awaitKnown(k.plaintext());
        return new Funded(a.id(), k.key().id(), k.plaintext());
    }

    public record Funded(String accountId, String keyId, String key) {
    }

    /** Waits until the proxy's cache knows the key (changes travel by NOTIFY). */
    public void awaitKnown(String key) {
        await().atMost(Duration.ofSeconds(5)).until(() -> proxy.catalog().keyByHash(
                io.tollgate.schema.ApiKeySecrets.hash(key)) != null);
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + proxy.port() + path);
    }

    public HttpResponse<String> chat(String key, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri("/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .header("content-type", "application/json");
        if (key != null) {
            b.header("authorization", "Bearer " + key);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public static String chatBody(String model, boolean stream) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":\"say hello to the gateway\"}],\"model\":\"" + model
                + "\"" + (stream ? ",\"stream\":true" : "") + "}";
    }

    /** Waits until the proxy's routing holds these models and the upstreams they route to. */
    public void awaitModels(String... ids) {
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            Catalog.Routing routing = proxy.catalog().routing();
            for (String id : ids) {
                Model m = routing.models().get(id);
                if (m == null || !m.routes().stream().allMatch(r -> routing.upstreams().containsKey(r.upstreamId()))) {
                    return false;
                }
            }
            return true;
        });
    }

    /** A valid chat body of about {@code size} bytes, model first, in many short messages. */
    public static byte[] bigChatBody(int size) {
        StringBuilder b = new StringBuilder("{\"model\":\"" + Gateway.MODEL + "\",\"messages\":[");
        String message = "{\"role\":\"user\",\"content\":\"" + "lorem ipsum ".repeat(80) + "\"}";
        while (b.length() + message.length() + 2 < size) {
            b.append(message).append(',');
        }
        b.setLength(b.length() - 1);
        b.append("]}");
        return b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Waits until every recorded outcome is in the database. */
    public void awaitSettled() {
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.pendingOutcomes() == 0);
    }

    @Override
    public void close() {
        proxy.close();
        mock.close();
        db.close();
    }
}
