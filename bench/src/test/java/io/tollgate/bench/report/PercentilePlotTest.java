package io.tollgate.bench.report;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class PercentilePlotTest {

    @Test
    void putsEachNineOneStepFurther() {
        assertThat(PercentilePlot.nines(0)).isZero();
        assertThat(PercentilePlot.nines(90)).isCloseTo(1, within(1e-9));
        assertThat(PercentilePlot.nines(99)).isCloseTo(2, within(1e-9));
        assertThat(PercentilePlot.nines(99.9)).isCloseTo(3, within(1e-9));
        assertThat(PercentilePlot.nines(100)).isCloseTo(7, within(1e-6));       // clamped, never infinite
    }

    @Test
    void drawsOnePathPerContenderWithItsLegend() {
        Map<String, Histogram> curves = PercentilePlot.curves();
        curves.put("direct", histogram(100, 200));
        curves.put("nginx", histogram(150, 300));
        curves.put("tollgate", histogram(200, 5_000));

        String svg = PercentilePlot.svg("Small chat at 2,000 req/s", "latency (ms)", curves);

        assertThat(svg).startsWith("<svg").endsWith("</svg>\n");
        assertThat(Pattern.compile("<path class=\"series\"").matcher(svg).results().count()).isEqualTo(3);
        assertThat(svg).contains("data-series=\"direct\"", "data-series=\"nginx\"", "data-series=\"tollgate\"");
        assertThat(svg).contains(">99.9%<", ">p50 0.224  p99 0.298  max 0.300 ms<");
        assertThat(svg).doesNotContain("log scale");
    }

    @Test
    void switchesToALogarithmicAxisWhenOneCurveDwarfsTheOthers() {
        Map<String, Histogram> curves = PercentilePlot.curves();
        curves.put("direct", histogram(100, 200));
        curves.put("tollgate", histogram(500_000, 2_000_000));

        assertThat(PercentilePlot.svg("t", "latency (ms)", curves)).contains("latency (ms) (log scale)");
    }

    @Test
    void anEmptyCurveStillGetsItsLegend() {
        Map<String, Histogram> curves = PercentilePlot.curves();
        curves.put("direct", histogram(100, 200));
        curves.put("tollgate", new Histogram(3));

        String svg = PercentilePlot.svg("t", "ms", curves);
        assertThat(svg).contains("no samples").contains("data-series=\"tollgate\" d=\"\"");
    }

    /** 10,000 samples spread evenly between {@code low} and {@code high} microseconds. */
    static Histogram histogram(long low, long high) {
        Histogram h = new Histogram(3_600_000_000L, 3);
        for (int i = 0; i < 10_000; i++) {
            h.recordValue(low + (high - low) * i / 9_999);
        }
        return h;
    }
}
