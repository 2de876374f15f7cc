package io.tollgate.proxy.catalog;

import io.tollgate.proxy.upstream.UpstreamTarget;
import io.tollgate.schema.Account;
import io.tollgate.schema.AccountStore;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.Database;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.Model;
import io.tollgate.schema.ModelStore;
import io.tollgate.schema.Upstream;
import io.tollgate.schema.UpstreamStore;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Keeps the {@link Catalog} fresh: LISTENs on the {@code tollgate_changes} channel that the
 * schema's triggers notify, reloads just the changed row, and reloads everything on (re)connect
 * and every {@code refreshInterval} as a safety net. Runs on its own thread: JDBC blocks.
 */
public final class CatalogSync implements AutoCloseable {

    public static final String CHANNEL = "tollgate_changes";
    private static final Logger log = LoggerFactory.getLogger(CatalogSync.class);

    private final Catalog catalog;
    private final Database database;
    private final KeyStore keys;
    private final AccountStore accounts;
    private final ModelStore models;
    private final UpstreamStore upstreams;
    private final Duration refreshInterval;
    private final Supplier<InetSocketAddress> mockAddress;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Connection listening;

    public CatalogSync(Catalog catalog, Database database, Duration refreshInterval,
                       Supplier<InetSocketAddress> mockAddress) {
        this.catalog = catalog;
        this.database = database;
        this.keys = new KeyStore(database.dataSource());
        this.accounts = new AccountStore(database.dataSource());
        this.models = new ModelStore(database.dataSource());
        this.upstreams = new UpstreamStore(database.dataSource());
        this.refreshInterval = refreshInterval;
        this.mockAddress = mockAddress;
        this.thread = new Thread(this::listenLoop, "tollgate-catalog-sync");
        this.thread.setDaemon(true);
    }

    /** Loads everything once, then follows changes in the background. */
    public void start() {
        reloadAll();
        thread.start();
    }

    /** Reads every key, account, model and upstream and swaps them in. */
    public void reloadAll() {
        List<ApiKey> usable = keys.listUsable();
        Set<String> accountIds = new HashSet<>();
        for (ApiKey k : usable) {
            accountIds.add(k.accountId());
        }
        for (String id : accountIds) {
            accounts.find(id).ifPresent(catalog::putAccount);
        }
        catalog.replaceKeys(usable);
        reloadRouting();
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

    private void listenLoop() {
        while (running) {
            try (Connection c = connect()) {
                listening = c;
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                // Changes made between the first load and LISTEN would be lost: load once more.
                reloadAll();
                PGConnection pg = c.unwrap(PGConnection.class);
                long nextRefresh = System.nanoTime() + refreshInterval.toNanos();
                while (running) {
                    PGNotification[] notes = pg.getNotifications(250);
                    if (notes != null) {
                        for (PGNotification n : notes) {
                            onChange(n.getParameter());
                        }
                    }
                    if (System.nanoTime() - nextRefresh > 0) {
                        reloadAll();
                        nextRefresh = System.nanoTime() + refreshInterval.toNanos();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    return;
                }
                log.warn("catalog sync lost its database connection, retrying: {}", e.toString());
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException ie) {
                    return;
                }
            } finally {
                listening = null;
            }
        }
    }

    private Connection connect() throws SQLException {
        Database.Config cfg = database.config();
        Properties props = new Properties();
        if (cfg.user() != null) {
            props.setProperty("user", cfg.user());
        }
        if (cfg.password() != null) {
            props.setProperty("password", cfg.password());
        }
        return DriverManager.getConnection(cfg.url(), props);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        Connection c = listening;
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
