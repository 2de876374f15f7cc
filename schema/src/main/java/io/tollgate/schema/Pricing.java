package io.tollgate.schema;

import java.math.BigDecimal;

/** A model's prices in credits; any of them may be null (not charged). */
public record Pricing(
        BigDecimal perRequest,
        BigDecimal inputPer1m,
        BigDecimal outputPer1m,
        BigDecimal perImage,
        BigDecimal perSecond) {

    public static final Pricing FREE = new Pricing(null, null, null, null, null);
}
