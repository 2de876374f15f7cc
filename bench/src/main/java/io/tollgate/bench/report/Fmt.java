package io.tollgate.bench.report;

import org.HdrHistogram.Histogram;

import java.util.Locale;

/** Numbers as the report prints them. Histograms hold microseconds. */
public final class Fmt {

    private Fmt() {
    }

    /** Value at {@code percentile} (0..100) in milliseconds; NaN for an empty histogram. */
    public static double ms(Histogram h, double percentile) {
        if (h == null || h.getTotalCount() == 0) {
            return Double.NaN;
        }
        return h.getValueAtPercentile(percentile) / 1000.0;
    }

    public static double maxMs(Histogram h) {
        return h == null || h.getTotalCount() == 0 ? Double.NaN : h.getMaxValue() / 1000.0;
    }

    /** Milliseconds with the precision that matters at that size: 0.085, 1.25, 12.3, 1234. */
    public static String ms(double ms) {
        if (Double.isNaN(ms)) {
            return "—";
        }
        double a = Math.abs(ms);
        String f = a < 1 ? "%.3f" : a < 10 ? "%.2f" : a < 100 ? "%.1f" : "%.0f";
        return String.format(Locale.ROOT, f, ms);
    }

    /** A difference, always signed: +0.042, -1.20. */
    public static String delta(double ms) {
        if (Double.isNaN(ms)) {
            return "—";
        }
        return (ms >= 0 ? "+" : "") + ms(ms);
    }

    public static String ratio(double r) {
        return Double.isNaN(r) || Double.isInfinite(r) ? "—" : String.format(Locale.ROOT, "%.2f×", r);
    }

    public static String rate(double perSecond) {
        return Double.isNaN(perSecond) ? "—" : String.format(Locale.ROOT, "%,.0f", perSecond);
    }

    public static String mb(double bytes) {
        return Double.isNaN(bytes) || bytes < 0 ? "—" : String.format(Locale.ROOT, "%.1f", bytes / (1024.0 * 1024.0));
    }

    public static String kb(double bytes) {
        return Double.isNaN(bytes) ? "—" : String.format(Locale.ROOT, "%.1f", bytes / 1024.0);
    }

    /** A duration in seconds, to a tenth: "2.3 s". */
    public static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    public static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
