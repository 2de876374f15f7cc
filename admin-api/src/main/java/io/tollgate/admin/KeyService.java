package io.tollgate.admin;

import io.tollgate.schema.ApiKey;
import io.tollgate.schema.KeyStore;
import io.tollgate.schema.NotFoundException;
import io.tollgate.schema.RateLimits;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/** API keys: issue, list, change and revoke, within the account's active key limit. */
final class KeyService {

    private final KeyStore keys;
    private final AccountService accounts;
    private final int maxActiveKeys;

    KeyService(KeyStore keys, AccountService accounts, int maxActiveKeys) {
        this.keys = keys;
        this.accounts = accounts;
        this.maxActiveKeys = maxActiveKeys;
    }

    KeyStore.Created create(String accountId, String name, List<String> models, BigDecimal creditLimit,
                            Instant expiresAt, RateLimits rateLimits) {
        try {
            return keys.create(accountId, name, models, creditLimit, expiresAt, rateLimits, maxActiveKeys);
        } catch (NotFoundException e) {
            throw AccountService.unknown(accountId);
        } catch (KeyStore.KeyLimitReachedException e) {
            throw ApiException.conflict("key_limit_reached", "account " + accountId + " already has " + maxActiveKeys
                    + " active or paused keys; revoke one first");
        }
    }

    List<ApiKey> list(String accountId) {
        accounts.get(accountId);
        return keys.listByAccount(accountId);
    }

    ApiKey get(String id) {
        return keys.find(id).orElseThrow(() -> unknown(id));
    }

    ApiKey update(String id, KeyStore.Patch patch) {
        try {
            return keys.update(id, patch).orElseThrow(() -> unknown(id));
        } catch (IllegalStateException e) {
            throw ApiException.conflict("key_revoked", "key " + id + " is revoked; a revoked key cannot be changed");
        }
    }

    /** Revokes for good; revoking a revoked key again is a no-op. */
    void revoke(String id) {
        if (!keys.revoke(id)) {
            throw unknown(id);
        }
    }

    private static ApiException unknown(String id) {
        return ApiException.notFound("key " + id + " does not exist");
    }
}
