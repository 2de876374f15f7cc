package io.tollgate.proxy.catalog;

import io.tollgate.proxy.upstream.UpstreamTarget;
import io.tollgate.schema.Account;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.Model;
import io.tollgate.schema.Upstream;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the hot path needs to know, in memory: keys by hash, accounts, models, upstreams.
 * Read lock-free from every event loop; written only by {@link CatalogSync}.
 */
public final class Catalog {

    /** Models and upstreams change together (routes join them), so they are swapped as one. */
    public record Routing(Map<String, Model> models, Map<String, Upstream> upstreams,
                          Map<String, UpstreamTarget> targets) {
        static final Routing EMPTY = new Routing(Map.of(), Map.of(), Map.of());
    }

    private final ConcurrentHashMap<String, ApiKey> keysByHash = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, String> hashByKeyId = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Account> accounts = new ConcurrentHashMap<>();
    private volatile Routing routing = Routing.EMPTY;

    public ApiKey keyByHash(String hash) {
        return keysByHash.get(hash);
    }

    public Account account(String id) {
        return accounts.get(id);
    }

    public Routing routing() {
        return routing;
    }

    public Collection<Model> models() {
        return routing.models().values();
    }

    void putKey(ApiKey key) {
        String old = hashByKeyId.put(key.id(), key.keyHash());
        if (old != null && !old.equals(key.keyHash())) {
            keysByHash.remove(old);
        }
        if (ApiKey.REVOKED.equals(key.status())) {
            removeKey(key.id());
        } else {
            keysByHash.put(key.keyHash(), key);
        }
    }

    void removeKey(String keyId) {
        String hash = hashByKeyId.remove(keyId);
        if (hash != null) {
            keysByHash.remove(hash);
        }
    }

    /** Replaces every key: those not in {@code keys} are gone (revoked or deleted). */
    void replaceKeys(Collection<ApiKey> keys) {
        Map<String, ApiKey> fresh = new java.util.HashMap<>();
        for (ApiKey k : keys) {
            fresh.put(k.id(), k);
        }
        for (String id : hashByKeyId.keySet()) {
            if (!fresh.containsKey(id)) {
                removeKey(id);
            }
        }
        fresh.values().forEach(this::putKey);
    }

    void putAccount(Account account) {
        accounts.put(account.id(), account);
    }

    void setRouting(Routing routing) {
        this.routing = routing;
    }
}
