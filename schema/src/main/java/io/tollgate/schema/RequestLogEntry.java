package io.tollgate.schema;

import java.math.BigDecimal;
import java.time.Instant;

/** One row of the request log; every request the proxy answers writes exactly one. */
public record RequestLogEntry(
        String requestId,
        String accountId,
        String keyId,
        String model,
        String endpoint,
        int status,
        String errorCode,
        Integer latencyMs,
        Integer ttfbMs,
        Long inputTokens,
        Long outputTokens,
        BigDecimal credits,
        String upstreamId,
        Instant createdAt) {
}
