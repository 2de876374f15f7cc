package io.tollgate.schema;

import java.math.BigDecimal;
import java.time.Instant;

/** One signed movement of an account's balance; a settlement is negative. */
public record LedgerEntry(
        String entryId,
        String accountId,
        String kind,
        BigDecimal amount,
        BigDecimal balanceAfter,
        String requestId,
        String reason,
        Instant createdAt) {
}
