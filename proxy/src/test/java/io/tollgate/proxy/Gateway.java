package io.tollgate.proxy;

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
        this(ProxyConfig.defaults().withHostPort("127.0.0.1", 0));
    }

    public Gateway(ProxyConfig config) {
        db = TestDatabase.create();
        mock = MockProvider.start("127.0.0.1", 0, new MockProvider.Options(8, Duration.ZERO, Duration.ZERO, UPSTREAM_KEY));
        accounts = new AccountStore(db.database().dataSource());
        keys = new KeyStore(db.database().dataSource());
        upstreams = new UpstreamStore(db.database().dataSource());
        models = new ModelStore(db.database().dataSource());
        upstream = upstreams.create("mock", "openai", "http://127.0.0.1:" + mock.port() + "/v1", UPSTREAM_KEY, 1, 0, true);
        putModel(MODEL, "mock-model", PRICING, 1000);
        proxy = ProxyServer.start(config, db.database());
    }

    public void putModel(String id, String upstreamModel, Pricing pricing, Integer maxOutputTokens) {
        Instant now = Instant.now();
        models.put(new Model(id, id, "text", List.of("chat"), List.of(new Route(upstream.id(), upstreamModel)),
                pricing, maxOutputTokens, true, true, null, now, now));
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
