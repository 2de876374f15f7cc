package io.tollgate.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A value over time per contender (the proxies' resident memory while streams open and close). */
public final class TimelinePlot {

    private TimelinePlot() {
    }

    /** {@code series}: label → samples of (seconds, value). */
    public static String svg(String title, String yLabel, Map<String, List<double[]>> series) {
        double maxX = 1;
        List<Svg.Series> out = new ArrayList<>();
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            double peak = 0;
            for (double[] p : e.getValue()) {
                maxX = Math.max(maxX, p[0]);
                peak = Math.max(peak, p[1]);
            }
            out.add(new Svg.Series(e.getKey(), String.format(Locale.ROOT, "peak %.0f", peak), e.getValue()));
        }
        double step = maxX <= 10 ? 1 : maxX <= 30 ? 5 : maxX <= 120 ? 10 : 30;
        double end = Math.ceil(maxX / step) * step;
        List<Svg.Tick> ticks = new ArrayList<>();
        for (double t = 0; t <= end + 1e-9; t += step) {
            ticks.add(new Svg.Tick(t, String.format(Locale.ROOT, "%.0f s", t)));
        }
        return Svg.chart(title, "time since the first stream was opened", yLabel, ticks, 0, end, out, false);
    }
}
