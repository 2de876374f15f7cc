package io.tollgate.proxy.billing;

import io.tollgate.schema.Pricing;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Credit arithmetic on exact decimals: token prices are per million tokens. */
public final class Prices {

    /** Credits carry 12 decimals, as the database stores them. */
    public static final int SCALE = 12;

    private Prices() {
    }

    /** per_request + input × input_per_1m / 10^6 + output × output_per_1m / 10^6. */
    public static BigDecimal tokens(Pricing p, long inputTokens, long outputTokens) {
        BigDecimal cost = BigDecimal.ZERO;
        if (p.perRequest() != null) {
            cost = cost.add(p.perRequest());
        }
        if (p.inputPer1m() != null && inputTokens > 0) {
            cost = cost.add(p.inputPer1m().multiply(BigDecimal.valueOf(inputTokens)).movePointLeft(6));
        }
        if (p.outputPer1m() != null && outputTokens > 0) {
            cost = cost.add(p.outputPer1m().multiply(BigDecimal.valueOf(outputTokens)).movePointLeft(6));
        }
        // Rounded up at the 12th decimal: the gateway never bills less than the price list says.
        return cost.setScale(SCALE, RoundingMode.UP);
    }

    /** per_request + per_image × n: what {@code n} images cost (reserved for n, settled for those made). */
    public static BigDecimal images(Pricing p, long n) {
        BigDecimal cost = p.perRequest() == null ? BigDecimal.ZERO : p.perRequest();
        if (p.perImage() != null && n > 0) {
            cost = cost.add(p.perImage().multiply(BigDecimal.valueOf(n)));
        }
        return cost.setScale(SCALE, RoundingMode.UP);
    }

    /** per_request + per_second × seconds: a video of that duration (fractions of a second count). */
    public static BigDecimal video(Pricing p, BigDecimal seconds) {
        BigDecimal cost = p.perRequest() == null ? BigDecimal.ZERO : p.perRequest();
        if (p.perSecond() != null && seconds.signum() > 0) {
            cost = cost.add(p.perSecond().multiply(seconds));
        }
        return cost.setScale(SCALE, RoundingMode.UP);
    }
}
