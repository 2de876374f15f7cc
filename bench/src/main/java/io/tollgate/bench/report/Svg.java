package io.tollgate.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small line chart in SVG, enough for the report: a title, two labelled axes (y linear or
 * logarithmic), one path per series with a legend. Written by hand: no plotting dependency.
 */
final class Svg {

    static final int WIDTH = 960;
    static final int HEIGHT = 540;
    static final int LEFT = 80;
    static final int RIGHT = 250;
    static final int TOP = 50;
    static final int BOTTOM = 70;
    static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"};

    /** A series: points in data coordinates (x, y), y > 0 when the axis is logarithmic. */
    record Series(String label, String legend, List<double[]> points) {
    }

    /** An x tick: position in data coordinates and its label. */
    record Tick(double at, String label) {
    }

    static String chart(String title, String xLabel, String yLabel, List<Tick> xTicks, double xMin, double xMax,
                        List<Series> series, boolean logY) {
        double yMin = Double.MAX_VALUE;
        double yMax = 0;
        for (Series s : series) {
            for (double[] p : s.points()) {
                if (p[1] > 0) {
                    yMin = Math.min(yMin, p[1]);
                }
                yMax = Math.max(yMax, p[1]);
            }
        }
        if (yMax <= 0) {
            yMax = 1;
            yMin = 0.1;
        }
        Axis y = logY ? Axis.log(yMin, yMax) : Axis.linear(yMax);
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;

        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(HEIGHT)
                .append("\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n");
        sb.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.append(text(WIDTH / 2.0 - RIGHT / 2.0, 28, title, "middle", 16, "bold"));
        // Grid and y ticks.
        for (double v : y.ticks()) {
            double py = TOP + plotH - y.fraction(v) * plotH;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>%n",
                    LEFT, py, LEFT + plotW, py));
            sb.append(text(LEFT - 8, py + 4, Fmt.ms(v), "end", 12, "normal"));
        }
        for (Tick t : xTicks) {
            double px = LEFT + (t.at() - xMin) / (xMax - xMin) * plotW;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e0e0e0\"/>%n",
                    px, TOP, px, TOP + plotH));
            sb.append(text(px, TOP + plotH + 18, t.label(), "middle", 12, "normal"));
        }
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>%n",
                LEFT, TOP, plotW, plotH));
        sb.append(text(LEFT + plotW / 2.0, HEIGHT - 22, xLabel, "middle", 13, "normal"));
        sb.append(String.format(Locale.ROOT,
                "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 %.1f)\">%s</text>%n",
                TOP + plotH / 2.0, TOP + plotH / 2.0, esc(yLabel + (logY ? " (log scale)" : ""))));
        // One path per series, clipped to the plot.
        sb.append("<clipPath id=\"plot\"><rect x=\"").append(LEFT).append("\" y=\"").append(TOP).append("\" width=\"")
                .append(plotW).append("\" height=\"").append(plotH).append("\"/></clipPath>\n");
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String color = COLORS[i % COLORS.length];
            StringBuilder d = new StringBuilder();
            for (double[] p : s.points()) {
                if (logY && p[1] <= 0) {
                    continue;
                }
                double px = LEFT + (p[0] - xMin) / (xMax - xMin) * plotW;
                double py = TOP + plotH - y.fraction(p[1]) * plotH;
                d.append(d.isEmpty() ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f", px, py));
            }
            sb.append("<path class=\"series\" data-series=\"").append(esc(s.label())).append("\" d=\"").append(d)
                    .append("\" fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"2\" clip-path=\"url(#plot)\"/>\n");
            double ly = TOP + 14 + i * 38;
            double lx = LEFT + plotW + 16;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>%n",
                    lx, ly, lx + 22, ly, color));
            sb.append(text(lx + 28, ly + 4, s.label(), "start", 13, "bold"));
            if (s.legend() != null) {
                sb.append(text(lx + 28, ly + 19, s.legend(), "start", 11, "normal"));
            }
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static String text(double x, double y, String s, String anchor, int size, String weight) {
        return String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\" font-weight=\"%s\">%s</text>%n",
                x, y, anchor, size, weight, esc(s));
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Maps data values to [0, 1] of the plot's height. */
    interface Axis {
        double fraction(double v);

        List<Double> ticks();

        static Axis linear(double max) {
            double step = niceStep(max / 5);
            double top = Math.ceil(max / step) * step;
            return new Axis() {
                public double fraction(double v) {
                    return v / top;
                }

                public List<Double> ticks() {
                    List<Double> t = new ArrayList<>();
                    for (double v = 0; v <= top * 1.0001; v += step) {
                        t.add(v);
                    }
                    return t;
                }
            };
        }

        static Axis log(double min, double max) {
            double lo = Math.floor(Math.log10(min));
            double hi = Math.ceil(Math.log10(max));
            if (hi <= lo) {
                hi = lo + 1;
            }
            double from = lo;
            double to = hi;
            return new Axis() {
                public double fraction(double v) {
                    return (Math.log10(Math.max(v, Math.pow(10, from))) - from) / (to - from);
                }

                public List<Double> ticks() {
                    List<Double> t = new ArrayList<>();
                    for (double e = from; e <= to; e++) {
                        t.add(Math.pow(10, e));
                    }
                    return t;
                }
            };
        }

        private static double niceStep(double raw) {
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double r = raw / mag;
            return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
        }
    }
}
