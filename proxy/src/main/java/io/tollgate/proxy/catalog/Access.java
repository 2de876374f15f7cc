package io.tollgate.proxy.catalog;

import io.tollgate.proxy.http.ApiError;
import io.tollgate.schema.Account;
import io.tollgate.schema.ApiKey;
import io.tollgate.schema.Model;
import io.tollgate.schema.Route;
import io.tollgate.schema.Upstream;
import io.tollgate.proxy.upstream.UpstreamTarget;

import java.time.Instant;

/**
 * What a key may do, decided from the in-memory catalog alone: whether the key (and its account)
 * may call at all, and whether it may call a model and where that model is served. One place for
 * these rules, so every endpoint refuses the same requests with the same errors.
 */
public final class Access {

    /** Why a request is refused: the SPEC error and its message. */
    public record Refusal(ApiError error, String message) {
    }

    /** A key that passed, with its account; or the refusal (with the key and account as far as they were found). */
    public record KeyCheck(ApiKey key, Account account, Refusal refusal) {

        public boolean allowed() {
            return refusal == null;
        }
    }

    /** A model the key may call on an endpoint, before any route is chosen; or the refusal. */
    public record Usable(Model model, Refusal refusal) {

        public boolean allowed() {
            return refusal == null;
        }
    }

    /** A model the key may call, the route chosen for it and where that upstream lives; or the refusal. */
    public record ModelCheck(Model model, Route route, Upstream upstream, UpstreamTarget target, Refusal refusal) {

        public boolean allowed() {
            return refusal == null;
        }
    }

    private Access() {
    }

    /**
     * The key behind {@code keyHash} (null: none presented): unknown or revoked → 401, its account
     * unknown → 401, paused → 403, expired → 403, account disabled → 403.
     */
    public static KeyCheck key(Catalog catalog, String keyHash, Instant now) {
        ApiKey k = keyHash == null ? null : catalog.keyByHash(keyHash);
        if (k == null || ApiKey.REVOKED.equals(k.status())) {
            return refused(ApiError.INVALID_API_KEY, "invalid or missing API key");
        }
        Account account = catalog.account(k.accountId());
        if (account == null) {
            return new KeyCheck(k, null, new Refusal(ApiError.INVALID_API_KEY, "invalid or missing API key"));
        }
        if (ApiKey.PAUSED.equals(k.status())) {
            return new KeyCheck(k, account, new Refusal(ApiError.API_KEY_PAUSED, "this API key is paused"));
        }
        if (k.expiresAt() != null && !now.isBefore(k.expiresAt())) {
            return new KeyCheck(k, account, new Refusal(ApiError.API_KEY_EXPIRED, "this API key expired at " + k.expiresAt()));
        }
        if (!account.active()) {
            return new KeyCheck(k, account, new Refusal(ApiError.ACCOUNT_DISABLED, "this account is disabled"));
        }
        return new KeyCheck(k, account, null);
    }

    private static KeyCheck refused(ApiError error, String message) {
        return new KeyCheck(null, null, new Refusal(error, message));
    }

    /** A key's {@code models}: null allows every public model, an empty list none. */
    public static boolean keyAllows(ApiKey key, String modelId) {
        return key.models() == null || key.models().contains(modelId);
    }

    /**
     * The model {@code name} for {@code key} on an endpoint serving {@code category}: unknown,
     * disabled or not public → 404 {@code model_not_available}; not in the key's allowlist → 403;
     * of another category → 400 {@code invalid_request}. Which upstream serves it is the caller's
     * choice (chat plans failover over all its routes, {@link #model} takes one).
     */
    public static Usable usable(Catalog.Routing routing, ApiKey key, String name, String category) {
        Model m = routing.models().get(name);
        if (m == null || !m.enabled() || !m.isPublic()) {
            return new Usable(null, new Refusal(ApiError.MODEL_NOT_AVAILABLE,
                    "the model '" + name + "' does not exist or is not available"));
        }
        if (!keyAllows(key, m.id())) {
            return new Usable(null, new Refusal(ApiError.API_KEY_MODEL_NOT_ALLOWED,
                    "this API key may not use the model '" + name + "'"));
        }
        if (!category.equals(m.category())) {
            return new Usable(null, new Refusal(ApiError.INVALID_REQUEST, "the model '" + name + "' is in the "
                    + m.category() + " category; this endpoint serves " + category + " models"));
        }
        return new Usable(m, null);
    }

    /**
     * {@link #usable}, then the route: the enabled upstream with the highest priority (ties: the
     * first route); none → 503 {@code provider_not_configured}.
     */
    public static ModelCheck model(Catalog.Routing routing, ApiKey key, String name, String category) {
        Usable usable = usable(routing, key, name, category);
        if (!usable.allowed()) {
            return new ModelCheck(null, null, null, null, usable.refusal());
        }
        Model m = usable.model();
        Route chosen = null;
        Upstream upstream = null;
        for (Route r : m.routes()) {
            Upstream u = routing.upstreams().get(r.upstreamId());
            if (u != null && u.enabled() && routing.targets().containsKey(u.id())
                    && (chosen == null || u.priority() > upstream.priority())) {
                chosen = r;
                upstream = u;
            }
        }
        if (chosen == null) {
            return refusedModel(ApiError.PROVIDER_NOT_CONFIGURED, "the model '" + name + "' has no enabled upstream");
        }
        return new ModelCheck(m, chosen, upstream, routing.targets().get(upstream.id()), null);
    }

    private static ModelCheck refusedModel(ApiError error, String message) {
        return new ModelCheck(null, null, null, null, new Refusal(error, message));
    }
}
