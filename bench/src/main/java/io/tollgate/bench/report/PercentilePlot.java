package io.tollgate.bench.report;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Latency by percentile, the way HdrHistogram and wrk2 plot it: the x axis counts "nines"
 * ({@code log10(1 / (1 - p))}: 90% at 1, 99% at 2, 99.9% at 3 …) so the tail gets the room it
 * deserves; one curve per contender. The y axis turns logarithmic when the curves differ by more
 * than 30× (an overloaded contender would flatten the others otherwise).
 */
public final class PercentilePlot {

    static final String[] NINES_LABELS = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"};

    private PercentilePlot() {
    }

    /** Where percentile {@code p} (0..100) sits on the x axis. */
    public static double nines(double p) {
        double q = Math.min(p / 100.0, 1 - 1e-7);
        return Math.log10(1 / (1 - q));
    }

    /** The (nines, milliseconds) points of a histogram of microseconds, up to {@code maxNines}. */
    static List<double[]> points(Histogram h, double maxNines) {
        List<double[]> pts = new ArrayList<>();
        if (h.getTotalCount() == 0) {
            return pts;
        }
        for (HistogramIterationValue v : h.percentiles(5)) {
            double x = Math.min(nines(v.getPercentileLevelIteratedTo()), maxNines);
            pts.add(new double[] {x, h.highestEquivalentValue(v.getValueIteratedTo()) / 1000.0});
            if (x >= maxNines) {
                break;
            }
        }
        return pts;
    }

    /** The SVG of {@code curves} (label → histogram of microseconds), in the map's order. */
    public static String svg(String title, String yLabel, Map<String, Histogram> curves) {
        long maxCount = 0;
        double minP50 = Double.MAX_VALUE;
        double maxP50 = 0;
        for (Histogram h : curves.values()) {
            maxCount = Math.max(maxCount, h.getTotalCount());
            if (h.getTotalCount() > 0) {
                double p50 = Math.max(Fmt.ms(h, 50), 0.001);
                minP50 = Math.min(minP50, p50);
                maxP50 = Math.max(maxP50, p50);
            }
        }
        // As many nines as the samples support, 2 (99%) at least and 6 at most.
        int maxNines = (int) Math.max(2, Math.min(6, Math.floor(Math.log10(Math.max(1, maxCount)))));
        List<Svg.Series> series = new ArrayList<>();
        for (Map.Entry<String, Histogram> e : curves.entrySet()) {
            Histogram h = e.getValue();
            String legend = h.getTotalCount() == 0 ? "no samples"
                    : "p50 " + Fmt.ms(Fmt.ms(h, 50)) + "  p99 " + Fmt.ms(Fmt.ms(h, 99)) + "  max " + Fmt.ms(Fmt.maxMs(h)) + " ms";
            series.add(new Svg.Series(e.getKey(), legend, points(h, maxNines)));
        }
        List<Svg.Tick> ticks = new ArrayList<>();
        for (int i = 0; i <= maxNines; i++) {
            ticks.add(new Svg.Tick(i, NINES_LABELS[i]));
        }
        boolean logY = maxP50 / minP50 > 30;
        return Svg.chart(title, "percentile", yLabel, ticks, 0, maxNines, series, logY);
    }

    /** Ordered map helper for callers building curves. */
    public static Map<String, Histogram> curves() {
        return new LinkedHashMap<>();
    }
}
