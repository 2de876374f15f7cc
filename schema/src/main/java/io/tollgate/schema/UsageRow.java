package io.tollgate.schema;

import java.math.BigDecimal;
import java.time.LocalDate;

/**
 * One account's use of one model on one UTC day, summed from the request log.
 *
 * @param model              null for the rows the proxy logged before it knew the model
 * @param requests           every logged request, refused ones included
 * @param successfulRequests those answered with a 2xx status
 */
public record UsageRow(
        LocalDate date,
        String model,
        long requests,
        long successfulRequests,
        long inputTokens,
        long outputTokens,
        BigDecimal credits) {
}
