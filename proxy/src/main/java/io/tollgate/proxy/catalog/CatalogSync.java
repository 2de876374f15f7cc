package io.tollgate.proxy.catalog;

import io.tollgate.proxy.upstream.UpstreamTarget;
import io.tollgate.schema.Account;
import io.tollgate.schema.AccountStore;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.ChangeFeed;
import io.tollgate.schema.Database;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.Model;
import io.tollgate.schema.ModelStore;
import io.tollgate.schema.Upstream;
import io.tollgate.schema.UpstreamStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Keeps the {@link Catalog} fresh from the schema's {@link ChangeFeed}: reloads just the changed
 * row on a notification, and everything on (re)connect and every {@code refreshInterval} as a
 * safety net. All of it on the feed's thread: JDBC blocks.
 *
 * <p>While the database is away the catalog keeps what it has: cached keys keep working. Once no
 * full reload has succeeded for longer than the staleness bound, a warning is logged (and again
 * every bound that passes): keys revoked or paused meanwhile cannot be known, but what they can
 * spend stays bounded by the credit leases, so they are honoured rather than refused.
 */
public final class CatalogSync implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CatalogSync.class);

    private final Catalog catalog;
    private final KeyStore keys;
    private final AccountStore accounts;
    private final ModelStore models;
    private final UpstreamStore upstreams;
    private final Supplier<InetSocketAddress> mockAddress;
    private final ChangeFeed feed;
    private final Duration staleness;
    private final ScheduledExecutorService watch;
    private volatile long refreshedAt = System.nanoTime();
    private long warnedAt;                              // watch thread only; 0: not stale

    public CatalogSync(Catalog catalog, Database database, Duration refreshInterval,
                       Supplier<InetSocketAddress> mockAddress) {
        this(catalog, database, refreshInterval, mockAddress, Duration.ofMinutes(5));
    }

    /** @param staleness a catalog not refreshed for longer than this is warned about */
    public CatalogSync(Catalog catalog, Database database, Duration refreshInterval,
                       Supplier<InetSocketAddress> mockAddress, Duration staleness) {
        this.catalog = catalog;
        this.staleness = staleness;
        this.watch = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tollgate-catalog-watch");
            t.setDaemon(true);
            t.setPriority(io.tollgate.proxy.billing.Billing.BACKGROUND_PRIORITY);
            return t;
        });
        this.keys = new KeyStore(database.dataSource());
        this.accounts = new AccountStore(database.dataSource());
        this.models = new ModelStore(database.dataSource());
        this.upstreams = new UpstreamStore(database.dataSource());
        this.mockAddress = mockAddress;
        // Changes made between the first load and LISTEN would be lost: reload on every connect.
        this.feed = new ChangeFeed(database, this::onChange, this::reloadAll, this::reloadAll, refreshInterval);
    }

    /** Loads everything once, then follows changes in the background. */
    public void start() {
        reloadAll();
        feed.start();
        long every = Math.max(100, staleness.toMillis() / 5);
        watch.scheduleWithFixedDelay(this::checkStaleness, every, every, TimeUnit.MILLISECONDS);
    }

    /** Reads every key, account, model and upstream and swaps them in. */
    public void reloadAll() {
        accounts.list().forEach(catalog::putAccount);
        catalog.replaceKeys(keys.listUsable());
        reloadRouting();
        refreshedAt = System.nanoTime();
    }

    /** How long since the catalog was last reloaded whole from the database. */
    public Duration age() {
        return Duration.ofNanos(System.nanoTime() - refreshedAt);
    }

    private void checkStaleness() {
        Duration age = age();
        long now = System.nanoTime();
        if (age.compareTo(staleness) <= 0) {
            if (warnedAt != 0) {
                log.info("the catalog is fresh again");
                warnedAt = 0;
            }
        } else if (warnedAt == 0 || now - warnedAt >= staleness.toNanos()) {
            log.warn("the catalog has not been refreshed from the database for {} s (bound {} s); "
                    + "cached keys are still honoured", age.toSeconds(), staleness.toSeconds());
            warnedAt = now;
        }
    }

    private void reloadRouting() {
        Map<String, Model> modelMap = new HashMap<>();
        for (Model m : models.list()) {
            modelMap.put(m.id(), m);
        }
        Map<String, Upstream> upstreamMap = new HashMap<>();
        Map<String, UpstreamTarget> targets = new HashMap<>();
        for (Upstream u : upstreams.list()) {
            upstreamMap.put(u.id(), u);
            try {
                UpstreamTarget target = UpstreamTarget.parse(u.baseUrl());
                if ("mock".equals(u.provider())) {
                    InetSocketAddress mock = mockAddress.get();
                    target = target.at(mock.getHostString(), mock.getPort());
                }
                targets.put(u.id(), target);
            } catch (IllegalArgumentException e) {
                log.warn("upstream {} has an unusable base_url: {}", u.id(), e.getMessage());
            }
        }
        catalog.setRouting(new Catalog.Routing(Map.copyOf(modelMap), Map.copyOf(upstreamMap), Map.copyOf(targets)));
    }

    private void onChange(String payload) {
        int colon = payload.indexOf(':');
        if (colon < 0) {
            return;
        }
        String table = payload.substring(0, colon);
        String id = payload.substring(colon + 1);
        switch (table) {
            case "api_keys" -> keys.find(id).ifPresentOrElse(k -> {
                if (catalog.account(k.accountId()) == null) {
                    accounts.find(k.accountId()).ifPresent(catalog::putAccount);
                }
                catalog.putKey(k);
            }, () -> catalog.removeKey(id));
            case "accounts" -> accounts.find(id).ifPresent(catalog::putAccount);
            case "models", "model_routes", "upstreams" -> reloadRouting();
            default -> log.debug("ignoring change of {}", payload);
        }
    }

    @Override
    public void close() {
        watch.shutdownNow();
        feed.close();
    }
}
