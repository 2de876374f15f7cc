package io.tollgate.schema;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * A stored API key. Only the hash and a short prefix of the secret are kept.
 *
 * @param models       the allowlist; null means every public model
 * @param creditLimit  the key's own spending cap; null means none
 * @param rateLimits   RPM overrides of the account tier's limits, never null
 */
public record ApiKey(
        String id,
        String accountId,
        String name,
        String keyHash,
        String prefix,
        String status,
        List<String> models,
        BigDecimal creditLimit,
        BigDecimal creditUsed,
        BigDecimal creditReserved,
        Instant expiresAt,
        RateLimits rateLimits,
        Instant createdAt) {

    public static final String ACTIVE = "active";
    public static final String PAUSED = "paused";
    public static final String REVOKED = "revoked";
}
