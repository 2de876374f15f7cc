package io.tollgate.proxy.billing;

import io.tollgate.schema.Pricing;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;

/** The price list's arithmetic, row by row, in exact decimals. */
class PricesTest {

    private static BigDecimal d(String s) {
        return s == null || s.isEmpty() ? null : new BigDecimal(s);
    }

    @ParameterizedTest
    @CsvSource({
            // per_request, input_per_1m, output_per_1m, input, output, expected
            "0.001, 2, 8, 1000, 500, 0.007",
            ",      2, 8, 1, 1, 0.00001",
            ",      0.15, 0.6, 3, 7, 0.00000465",
            "0.5,   ,  , 999, 999, 0.5",
            ",      1, 1, 0, 0, 0",
            // Below the 12th decimal a fraction is rounded up, never down.
            ",      0.0000001, , 1, 0, 0.000000000001",
    })
    void tokens(String perRequest, String in, String out, long inputTokens, long outputTokens, String expected) {
        Pricing p = new Pricing(d(perRequest), d(in), d(out), null, null);
        assertThat(Prices.tokens(p, inputTokens, outputTokens)).isEqualByComparingTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
            // per_request, per_image, n, expected
            ",      0.04, 1, 0.04",
            ",      0.04, 4, 0.16",
            "0.01,  0.04, 2, 0.09",
            ",      ,     3, 0",
    })
    void images(String perRequest, String perImage, long n, String expected) {
        assertThat(Prices.images(new Pricing(d(perRequest), null, null, d(perImage), null), n)).isEqualByComparingTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
            // per_request, per_second, seconds, expected
            ",     0.1,  5,   0.5",
            ",     0.1,  5.5, 0.55",
            "1,    0.25, 8,   3",
            ",     0.1,  0,   0",
    })
    void video(String perRequest, String perSecond, String seconds, String expected) {
        assertThat(Prices.video(new Pricing(d(perRequest), null, null, null, d(perSecond)), new BigDecimal(seconds)))
                .isEqualByComparingTo(expected);
    }
}
