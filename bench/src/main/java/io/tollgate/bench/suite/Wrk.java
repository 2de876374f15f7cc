package io.tollgate.bench.suite;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Saturation with wrk (closed loop, as many requests as the contender answers), POST body from a Lua script. */
public final class Wrk {

    /** What wrk printed: throughput, its latency percentiles (milliseconds, not CO-corrected) and errors. */
    public record Result(double requestsPerSecond, long requests, double p50, double p90, double p99,
                         long non2xx, long socketErrors, String raw) {
    }

    private Wrk() {
    }

    public static Result run(List<String> pin, String wrk, String url, Map<String, String> headers, String body,
                             int connections, int threads, Duration duration, Path dir)
            throws IOException, InterruptedException {
        Path script = dir.resolve("post-" + System.nanoTime() + ".lua");
        StringBuilder lua = new StringBuilder("wrk.method = \"POST\"\n")
                .append("wrk.body = ").append(luaString(body)).append('\n')
                .append("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
        headers.forEach((k, v) -> lua.append("wrk.headers[").append(luaString(k)).append("] = ").append(luaString(v)).append('\n'));
        Files.writeString(script, lua);
        List<String> cmd = new ArrayList<>(pin);
        cmd.addAll(List.of(wrk, "-t" + threads, "-c" + connections, "-d" + duration.toSeconds() + "s", "--latency",
                "--timeout", "10s", "-s", script.toString(), url));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(duration.toSeconds() + 60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("wrk did not finish: " + out);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("wrk failed (exit " + p.exitValue() + "): " + out);
        }
        return parse(out);
    }

    static Result parse(String out) {
        double rps = number(out, "Requests/sec:\\s+([\\d.]+)");
        long requests = (long) number(out, "(\\d+) requests in");
        long non2xx = (long) number(out, "Non-2xx or 3xx responses:\\s+(\\d+)");
        long socketErrors = 0;
        Matcher m = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(out);
        if (m.find()) {
            for (int i = 1; i <= 4; i++) {
                socketErrors += Long.parseLong(m.group(i));
            }
        }
        return new Result(Double.isNaN(rps) ? 0 : rps, Math.max(0, requests), percentile(out, "50%"),
                percentile(out, "90%"), percentile(out, "99%"), Math.max(0, non2xx), socketErrors, out);
    }

    /** A line of wrk's "Latency Distribution", in milliseconds. */
    private static double percentile(String out, String label) {
        Matcher m = Pattern.compile("(?m)^\\s+" + Pattern.quote(label) + "\\s+([\\d.]+)(us|ms|s|m|h)\\s*$").matcher(out);
        if (!m.find()) {
            return Double.NaN;
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "ms" -> v;
            case "s" -> v * 1000;
            case "m" -> v * 60_000;
            default -> v * 3_600_000;
        };
    }

    private static double number(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    static String luaString(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                default -> sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    /** wrk's first output line, e.g. "wrk 4.1.0 [epoll] Copyright (C) 2012 Will Glozer". */
    public static String version(String wrk) {
        try {
            Process p = new ProcessBuilder(wrk, "-v").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(5, TimeUnit.SECONDS);
            return out.lines().findFirst().orElse("wrk").trim();
        } catch (IOException e) {
            return "wrk (version unknown)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "wrk";
        }
    }

    static String format(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
