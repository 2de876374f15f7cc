package io.tollgate.bench.report;

import io.tollgate.bench.load.PhaseStats;
import io.tollgate.bench.load.RunResult;
import io.tollgate.bench.suite.Contender;
import io.tollgate.bench.suite.Results;
import io.tollgate.bench.suite.Settings;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Renders a run's {@link Results} as the markdown report and its SVG plots: every table puts the
 * contenders side by side with the differences and ratios the targets are stated in, and every
 * target is marked met or missed.
 */
public final class Report {

    static final String DIRECT = Contender.DIRECT;
    static final String NGINX = Contender.NGINX;
    static final String TOLLGATE = Contender.TOLLGATE;

    /** Issue #3's thresholds. */
    static final double ADDED_P50_MS = 0.1;
    static final double ADDED_P99_MS = 1.0;
    static final double ADDED_CHUNK_P99_MS = 0.5;
    static final double ADDED_TTFB_P99_MS = 1.0;
    static final long STREAMS_RSS_BYTES = 512L * 1024 * 1024;
    public static final int STREAMS = 10_000;
    static final long HELD_BYTES = 64 * 1024;
    static final int TARGET_RATE = 2_000;
    /** Thread names shown a proxy in the threads section, busiest first. */
    static final int MAX_THREAD_ROWS = 8;
    /** Latency targets also need the requests to succeed: more failures than this is a miss. */
    static final double MAX_FAILURE_RATIO = 0.001;

    private final Results r;
    private final String name;
    private final Map<String, String> files = new LinkedHashMap<>();

    private Report(Results r, String name) {
        this.r = r;
        this.name = name;
    }

    /** File name → content: {@code <name>.md} and the SVGs it references. */
    public static Map<String, String> render(Results results, String name) {
        Report report = new Report(results, name);
        String md = report.markdown();
        Map<String, String> out = new LinkedHashMap<>();
        out.put(name + ".md", md);
        out.putAll(report.files);
        return out;
    }

    private String markdown() {
        StringBuilder sb = new StringBuilder();
        Settings s = r.settings;
        sb.append("# Tollgate benchmark ").append(name).append("\n\n");
        sb.append("Contenders measured in turn (in interleaved rounds where a phase says so) against one mock upstream process: `direct` (the client straight to the mock, "
                + "the floor), `nginx` (a plain keep-alive reverse proxy), "
                + (r.contenders.contains(Contender.NETTY) ? "`netty` (a plain relay on Netty's HTTP codecs, no feature, with "
                        + "Tollgate's JVM options, event loops and CPU: the floor of Tollgate's own stack) " : "")
                + "and `tollgate` (every feature on: key check, credit "
                + "reservation and settlement on PostgreSQL, request log, billing journal on disk, rate limit in Redis, message "
                + "limits and content rules; the list it ran with is under Machine. The bench key's limit is 100 million a "
                + "minute, so at these rates its requests are leased from Redis ahead (`redis.lease_ms`, README: Rate limits) "
                + "rather than asked one by one; the CPU columns count Redis's time after the database's). Produced by `").append(r.command).append("`; the load "
                + "scenarios took ").append(String.format(Locale.ROOT, "%.1f", r.minutes)).append(" minutes");
        if (s != null && s.quick()) {
            sb.append(" in **quick mode** (short runs: a smoke test, not a measurement)");
        }
        sb.append(".\n\n");

        sb.append("## Targets\n\n");
        Markdown t = new Markdown("target (issue #3)", "tollgate", "nginx, for reference", "verdict", "how judged");
        for (Target target : targets()) {
            t.row(target.name(), target.tollgate(), target.nginx(), target.verdict(), target.note());
        }
        sb.append(t.render()).append('\n');

        sb.append("## Machine\n\n");
        Markdown m = new Markdown("", "");
        r.machine.forEach((k, v) -> m.row(k, v));
        sb.append(m.render()).append('\n');

        if (!r.notes.isEmpty()) {
            sb.append("## Notes\n\n");
            r.notes.forEach(n -> sb.append("- ").append(n).append('\n'));
            sb.append('\n');
        }
        if (!r.rates.isEmpty() || !r.saturation.isEmpty()) {
            chat(sb);
        }
        if (!r.sse.isEmpty()) {
            sse(sb);
        }
        threads(sb);
        if (!r.uploads.isEmpty()) {
            uploads(sb);
        }
        if (!r.streams.isEmpty()) {
            streams(sb);
        }
        sb.append("## JMH: the hot path's pieces\n\n");
        if (r.jmh != null) {
            sb.append(r.jmh).append('\n');
        } else {
            sb.append("Not run in this run (`--quick` or `--only`); `bench/jmh.sh` runs them alone.\n\n");
        }
        sb.append("- `RateLimiterBenchmark` is the in-process limiter's call; the Redis limiter's cost is its round trip, "
                + "measured by `RedisLimiterLatency` in the proxy's tests.\n\n");
        if (r.nginxConf != null) {
            sb.append("## nginx configuration\n\n```nginx\n").append(r.nginxConf).append("```\n");
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ targets

    List<Target> targets() {
        List<Target> out = new ArrayList<>();
        out.add(saturationTarget());
        out.add(latencyTarget("added latency over direct at 2k req/s, p50 < 0.1 ms", 50, ADDED_P50_MS));
        out.add(latencyTarget("added latency over direct at 2k req/s, p99 < 1 ms", 99, ADDED_P99_MS));
        out.add(sseTarget("added per-chunk SSE delay over direct, p99 < 0.5 ms", run -> run.stats().gaps, ADDED_CHUNK_P99_MS));
        out.add(sseTarget("added SSE time to first byte over direct, p99 < 1 ms", run -> run.stats().ttfb, ADDED_TTFB_P99_MS));
        out.add(streamsTarget());
        out.add(uploadTarget());
        return out;
    }

    private Target saturationTarget() {
        String name = "saturation throughput: tollgate ≥ nginx";
        Results.Saturation tg = r.saturation.get(TOLLGATE);
        Results.Saturation ng = r.saturation.get(NGINX);
        if (tg == null || ng == null || tg.error() != null || ng.error() != null) {
            return new Target(name, tg == null ? "—" : satCell(tg), ng == null ? "—" : satCell(ng), null,
                    "needs both tollgate and nginx");
        }
        double ratio = tg.requestsPerSecond() / ng.requestsPerSecond();
        return new Target(name, Fmt.rate(tg.requestsPerSecond()) + " req/s (" + Fmt.ratio(ratio) + " nginx)",
                Fmt.rate(ng.requestsPerSecond()) + " req/s", ratio >= 1.0, "tollgate/nginx req/s ≥ 1.00, " + tg.tool());
    }

    /** ", in 3 interleaved rounds of 5 s (…)" for a phase's sentence; empty for one round. */
    static String rounds(Settings s, Duration total) {
        if (s.rounds() <= 1) {
            return "";
        }
        return ", in " + s.rounds() + " interleaved rounds of " + Fmt.seconds(s.slice(total).toMillis())
                + " (every contender in turn, each round starting with the next one, so that all are measured in the same "
                + "minutes of a VM whose speed drifts)";
    }

    /**
     * The saturation slices round by round, and Tollgate's over nginx's and over the relay's
     * round by round: how far the ratio moved within the run.
     */
    private String saturationRounds() {
        if (r.saturationRounds.values().stream().allMatch(l -> l.size() <= 1)) {
            return "";
        }
        StringBuilder sb = new StringBuilder("Round by round, req/s in the order run:");
        r.saturationRounds.forEach((c, rates) -> sb.append(' ').append(c).append(' ')
                .append(rates.stream().map(Fmt::rate).collect(Collectors.joining(" / "))).append(';'));
        sb.setLength(sb.length() - 1);
        for (String[] pair : List.of(new String[] {TOLLGATE, NGINX}, new String[] {TOLLGATE, Contender.NETTY},
                new String[] {Contender.TOLLGATE_B, TOLLGATE})) {
            List<Double> a = r.saturationRounds.get(pair[0]);
            List<Double> b = r.saturationRounds.get(pair[1]);
            if (a != null && b != null && a.size() == b.size() && !a.isEmpty()) {
                List<String> ratios = new ArrayList<>();
                for (int i = 0; i < a.size(); i++) {
                    ratios.add(Fmt.ratio(a.get(i) / b.get(i)));
                }
                sb.append("; ").append(pair[0]).append(" ÷ ").append(pair[1]).append(" by round: ").append(String.join(" / ", ratios));
            }
        }
        return sb.append(".\n\n").toString();
    }

    /**
     * Each CPU's busy share while each contender was under load: whether the proxy's CPU was the
     * limit, or the proxy waited on the generator's side (or that side on it).
     */
    private String saturationCpus() {
        List<String> parts = new ArrayList<>();
        r.saturation.forEach((c, sat) -> {
            if (sat.error() == null && !sat.cpuBusy().isEmpty()) {
                List<String> cpus = new ArrayList<>();
                for (int i = 0; i < sat.cpuBusy().size(); i++) {
                    double busy = sat.cpuBusy().get(i);
                    cpus.add("CPU " + i + " " + (Double.isNaN(busy) ? "—" : Math.round(busy * 100) + "%"));
                }
                parts.add(c + " " + String.join(", ", cpus));
            }
        });
        if (parts.isEmpty()) {
            return "";
        }
        return "Each CPU's busy share during each contender's load (/proc/stat: all but idle and iowait; "
                + "a proxy whose CPU is not busy throughout is waiting on the other side): "
                + String.join("; ", parts) + ".\n\n";
    }

    private static String satCell(Results.Saturation s) {
        return s.error() != null ? "failed" : Fmt.rate(s.requestsPerSecond()) + " req/s";
    }

    private Target latencyTarget(String name, double percentile, double thresholdMs) {
        Map<String, Results.Run> runs = r.rates.get(TARGET_RATE);
        RunResult direct = ok(runs, DIRECT);
        RunResult tg = ok(runs, TOLLGATE);
        RunResult ng = ok(runs, NGINX);
        if (direct == null || tg == null) {
            return new Target(name, "—", "—", null, "needs direct and tollgate at 2k req/s");
        }
        double added = Fmt.ms(tg.stats().latency, percentile) - Fmt.ms(direct.stats().latency, percentile);
        double ngAdded = ng == null ? Double.NaN : Fmt.ms(ng.stats().latency, percentile) - Fmt.ms(direct.stats().latency, percentile);
        boolean failing = failureRatio(tg) > MAX_FAILURE_RATIO;
        String cell = Fmt.delta(added) + " ms" + (failing ? " (" + Fmt.count(tg.stats().failures()) + " failed)" : "")
                + achievedNote(tg);
        return new Target(name, cell, ng == null ? "—" : Fmt.delta(ngAdded) + " ms", added < thresholdMs && !failing,
                "p" + pct(percentile) + " tollgate − p" + pct(percentile) + " direct, CO-corrected, < " + Fmt.ms(thresholdMs)
                        + " ms and ≤ 0.1% failed");
    }

    private Target sseTarget(String name, Function<RunResult, Histogram> h, double thresholdMs) {
        RunResult direct = ok(r.sse, DIRECT);
        RunResult tg = ok(r.sse, TOLLGATE);
        RunResult ng = ok(r.sse, NGINX);
        if (direct == null || tg == null) {
            return new Target(name, "—", "—", null, "needs direct and tollgate in the SSE scenario");
        }
        double added = Fmt.ms(h.apply(tg), 99) - Fmt.ms(h.apply(direct), 99);
        double ngAdded = ng == null ? Double.NaN : Fmt.ms(h.apply(ng), 99) - Fmt.ms(h.apply(direct), 99);
        boolean failing = failureRatio(tg) > MAX_FAILURE_RATIO;
        return new Target(name, Fmt.delta(added) + " ms" + (failing ? " (" + Fmt.count(tg.stats().failures()) + " failed)" : ""),
                ng == null ? "—" : Fmt.delta(ngAdded) + " ms", added < thresholdMs && !failing,
                "p99 tollgate − p99 direct < " + Fmt.ms(thresholdMs) + " ms and ≤ 0.1% failed");
    }

    private Target streamsTarget() {
        String name = "10,000 concurrent streams in < 512 MB RSS";
        Results.Streams tg = r.streams.get(TOLLGATE);
        Results.Streams ng = r.streams.get(NGINX);
        if (tg == null || tg.error() != null) {
            return new Target(name, tg == null ? "—" : "failed", streamsCell(ng), null,
                    tg == null ? "not run" : tg.error());
        }
        double value = tg.peakActive() >= STREAMS ? tg.peakRss() : tg.projectedPeak(STREAMS);
        boolean allOpen = tg.peakActive() >= tg.asked() * 0.99 && tg.failed() == 0;
        String how = tg.peakActive() >= STREAMS ? "peak RSS (VmHWM) with all streams open"
                : "peak RSS (VmHWM) with " + Fmt.count(tg.peakActive()) + " open, projected linearly to 10,000";
        return new Target(name, streamsCell(tg), streamsCell(ng), allOpen && value < STREAMS_RSS_BYTES,
                how + "; every stream must open and none fail");
    }

    private static String streamsCell(Results.Streams s) {
        if (s == null) {
            return "—";
        }
        if (s.error() != null) {
            return "failed";
        }
        String v = Fmt.mb(s.peakActive() >= STREAMS ? s.peakRss() : s.projectedPeak(STREAMS)) + " MB";
        if (s.peakActive() < STREAMS) {
            v += " projected (" + Fmt.mb(s.peakRss()) + " MB at " + Fmt.count(s.peakActive()) + ")";
        }
        if (s.failed() > 0) {
            v += ", " + Fmt.count(s.failed()) + " failed";
        }
        return v;
    }

    private Target uploadTarget() {
        String name = "512 KB upload, model first, never held whole: < 64 KB buffered per connection";
        Results.Upload tg = r.uploads.get(TOLLGATE);
        Results.Upload ng = r.uploads.get(NGINX);
        if (tg == null || tg.error() != null || tg.probe() == null) {
            return new Target(name, tg == null ? "—" : "failed", heldCell(ng), null, tg == null ? "not run" : String.valueOf(tg.error()));
        }
        boolean answered = tg.probe().status() >= 200 && tg.probe().status() < 300;
        return new Target(name, heldCell(tg), heldCell(ng), tg.probe().maxHeld() < HELD_BYTES && answered,
                "most bytes read from the client and not yet written upstream, at any of the probe's pauses (kernel "
                        + "socket counters); the upload must then be answered 2xx");
    }

    private static String heldCell(Results.Upload u) {
        if (u == null || u.probe() == null) {
            return "—";
        }
        return Fmt.kb(u.probe().maxHeld()) + " KB" + (u.probe().status() >= 300 || u.probe().status() < 200
                ? " (answered " + u.probe().status() + ")" : "");
    }

    // ------------------------------------------------------------------ (a) chat

    private void chat(StringBuilder sb) {
        Settings s = r.settings;
        sb.append("## (a) Small chat, not streamed\n\n");
        sb.append("A ~230-byte chat request (`max_tokens` 16), a ~450-byte answer. Constant rate, wrk2's model: each of ")
                .append(s.rateConnections()).append(" keep-alive connections sends at its own intended times, latency counts from the "
                        + "intended send time (coordinated omission corrected); \"uncorrected\" counts from the actual write. "
                        + "\"unsent\": intended sends the schedule never reached because answers came back too late. Each rate runs ")
                .append(s.rateDuration().toSeconds()).append(" s per contender").append(rounds(s, s.rateDuration()))
                .append(". Latencies in ms. CPU per request counts from each slice's start until its last outcome is in the "
                        + "database.\n\n");
        for (Map.Entry<Integer, Map<String, Results.Run>> e : r.rates.entrySet()) {
            int rate = e.getKey();
            Map<String, Results.Run> runs = e.getValue();
            sb.append("### ").append(Fmt.count(rate)).append(" req/s\n\n");
            Markdown t = new Markdown("contender", "req/s", "p50", "p90", "p99", "p99.9", "max", "uncorrected p50 / p99",
                    "failed / unsent", "vs direct: +p50 / +p99", "vs nginx: +p50 / +p99", "CPU µs/req (proxy / DB / Redis)");
            Map<String, Histogram> curves = PercentilePlot.curves();
            for (Map.Entry<String, Results.Run> c : runs.entrySet()) {
                Results.Run run = c.getValue();
                if (run.error() != null) {
                    t.row(c.getKey(), "failed: " + run.error(), "", "", "", "", "", "", "", "", "", "");
                    continue;
                }
                PhaseStats st = run.result().stats();
                curves.put(c.getKey(), st.latency);
                t.row(c.getKey(), Fmt.rate(run.result().achievedRate()), p(st.latency, 50), p(st.latency, 90), p(st.latency, 99),
                        p(st.latency, 99.9), Fmt.ms(Fmt.maxMs(st.latency)),
                        p(st.uncorrected, 50) + " / " + p(st.uncorrected, 99),
                        Fmt.count(st.failures()) + " / " + Fmt.count(st.unsent) + lastError(st),
                        versus(runs, c.getKey(), DIRECT, x -> x.stats().latency),
                        versus(runs, c.getKey(), NGINX, x -> x.stats().latency), cpu(run.cpu()));
            }
            sb.append(t.render()).append('\n');
            String svg = name + "-chat-" + rate + "rps.svg";
            files.put(svg, PercentilePlot.svg("Small chat at " + Fmt.count(rate) + " req/s: latency by percentile (CO-corrected)",
                    "latency (ms)", curves));
            sb.append("![latency by percentile at ").append(rate).append(" req/s](").append(svg).append(")\n\n");
        }
        long gcCount = 0;
        long gcMillis = 0;
        for (Map<String, Results.Run> runs : r.rates.values()) {
            for (Results.Run run : runs.values()) {
                if (run.result() != null) {
                    gcCount += run.result().generatorGcCount();
                    gcMillis += run.result().generatorGcMillis();
                }
            }
        }
        if (!r.rates.isEmpty()) {
            sb.append("The load generator's own garbage collection during these runs: ").append(gcCount)
                    .append(" collections, ").append(gcMillis).append(" ms in all (a pause there delays every contender alike).\n\n");
        }
        if (!r.saturation.isEmpty()) {
            sb.append("### Saturation\n\n");
            Results.Saturation direct = r.saturation.get(DIRECT);
            Results.Saturation nginx = r.saturation.get(NGINX);
            String tool = r.saturation.values().stream().map(Results.Saturation::tool).filter(x -> !x.isEmpty()).findFirst().orElse("");
            sb.append("Closed loop with ").append(tool).append(", ").append(s.saturationConnections()).append(" connections, ")
                    .append(s.saturation().toSeconds()).append(" s per contender").append(rounds(s, s.saturation()))
                    .append("; req/s is all the slices' requests over their time, p50 and p99 the median slice's (wrk's "
                            + "percentiles of separate runs do not add up), and they are not CO-corrected.\n\n");
            Markdown t = new Markdown("contender", "req/s", "p50", "p99", "errors", "vs direct", "vs nginx", "CPU µs/req (proxy / DB / Redis)");
            for (Map.Entry<String, Results.Saturation> e : r.saturation.entrySet()) {
                Results.Saturation sat = e.getValue();
                if (sat.error() != null) {
                    t.row(e.getKey(), "failed: " + sat.error(), "", "", "", "", "", "");
                    continue;
                }
                t.row(e.getKey(), Fmt.rate(sat.requestsPerSecond()), Fmt.ms(sat.p50Ms()), Fmt.ms(sat.p99Ms()), Fmt.count(sat.errors()),
                        direct == null || direct.error() != null ? "—" : Fmt.ratio(sat.requestsPerSecond() / direct.requestsPerSecond()),
                        nginx == null || nginx.error() != null ? "—" : Fmt.ratio(sat.requestsPerSecond() / nginx.requestsPerSecond()),
                        cpu(sat.cpu()));
            }
            sb.append(t.render()).append('\n');
            sb.append(saturationRounds());
            sb.append(saturationCpus());
            Results.Saturation tg = r.saturation.get(TOLLGATE);
            Results.Saturation relay = r.saturation.get(Contender.NETTY);
            if (tg != null && relay != null && tg.error() == null && relay.error() == null && tg.cpu() != null && relay.cpu() != null) {
                double tollgateUs = tg.cpu().proxyMicrosPerRequest();
                double relayUs = relay.cpu().proxyMicrosPerRequest();
                sb.append("The plain Netty relay, with no feature, used ").append(micros(relayUs))
                        .append(" µs of CPU a request at saturation, Tollgate ").append(micros(tollgateUs))
                        .append(": of Tollgate's, about ").append(micros(tollgateUs - relayUs))
                        .append(" µs are its features and the rest is the cost of relaying on the JVM and Netty at all")
                        .append(nginx == null || nginx.error() != null ? "" : " (nginx: " + cpu(nginx.cpu()) + ")").append(".\n\n");
            }
            if (tg != null && tg.error() == null && tg.settled().maxPending() > 0) {
                Contender.Settled st = tg.settled();
                sb.append("Tollgate's settlements kept up in its journal: at most ").append(Fmt.count(st.maxPending()))
                        .append(" outcomes waited for the database at once, and ")
                        .append(st.drained() ? "all were in it " + Fmt.seconds(st.drainMillis()) + " after the run ended"
                                : "some were still waiting " + Fmt.seconds(st.drainMillis()) + " after the run ended")
                        .append(" (the DB CPU above includes that catching up).\n\n");
            }
            if (tg != null && tg.databaseWaits() != null) {
                sb.append("Tollgate's PostgreSQL backends during its saturation run (pg_stat_activity every 100 ms, "
                        + "share of active-backend samples): ").append(tg.databaseWaits()).append(".\n\n");
            }
        }
    }

    // ------------------------------------------------------------------ threads

    /** The proxies' threads by name, phase by phase: who used the proxy's CPU, and who waited for it. */
    private void threads(StringBuilder sb) {
        Map<String, Map<String, Results.Cpu>> phases = new LinkedHashMap<>();
        r.rates.forEach((rate, runs) -> runs.forEach((c, run) ->
                phases.computeIfAbsent(Fmt.count(rate) + " req/s", k -> new LinkedHashMap<>()).put(c, run.cpu())));
        r.saturation.forEach((c, sat) -> phases.computeIfAbsent("saturation", k -> new LinkedHashMap<>()).put(c, sat.cpu()));
        r.sse.forEach((c, run) -> phases.computeIfAbsent("SSE", k -> new LinkedHashMap<>()).put(c, run.cpu()));
        boolean first = true;
        for (String contender : r.contenders) {
            Map<String, Double> peak = new HashMap<>();
            for (Map<String, Results.Cpu> phase : phases.values()) {
                Results.Cpu cpu = phase.get(contender);
                if (cpu != null && cpu.threads() != null) {
                    cpu.threads().forEach(t -> peak.merge(t.name(), t.cpuMsPerSecond(), Math::max));
                }
            }
            if (peak.isEmpty()) {
                continue;
            }
            if (first) {
                sb.append("## The proxies' threads\n\n");
                sb.append("Each proxy's threads by name (as the kernel cuts it, 15 characters; threads of one name summed), over each "
                        + "phase from `/proc/<pid>/task/<tid>/schedstat`: CPU, then time runnable but waiting for a CPU, in ms a "
                        + "second of load (what Tollgate spends after a slice's load, while its outcomes reach the database, "
                        + "counted in it), and (in brackets) time slices a second, each a wake-up or a preemption. On one CPU, a thread's "
                        + "wait is mostly the others' CPU: what an event loop waits for is what holds its CPU when a request "
                        + "arrives. The busiest ").append(MAX_THREAD_ROWS).append(" names over 0.5 ms/s.\n\n");
                first = false;
            }
            sb.append("### ").append(contender).append("\n\n");
            List<String> header = new ArrayList<>();
            header.add("thread");
            header.addAll(phases.keySet());
            Markdown t = new Markdown(header.toArray(String[]::new));
            peak.entrySet().stream()
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .limit(MAX_THREAD_ROWS)
                    .forEach(name -> {
                        List<String> row = new ArrayList<>();
                        row.add(name.getKey());
                        for (Map<String, Results.Cpu> phase : phases.values()) {
                            row.add(threadCell(phase.get(contender), name.getKey()));
                        }
                        t.row(row.toArray(String[]::new));
                    });
            sb.append(t.render()).append('\n');
        }
    }

    private static String threadCell(Results.Cpu cpu, String name) {
        if (cpu == null || cpu.threads() == null) {
            return "—";
        }
        for (Results.ThreadUse t : cpu.threads()) {
            if (t.name().equals(name)) {
                return String.format(Locale.ROOT, "%.1f / %.1f (%,.0f)", t.cpuMsPerSecond(), t.waitMsPerSecond(), t.slicesPerSecond());
            }
        }
        return "—";
    }

    // ------------------------------------------------------------------ (b) SSE

    private void sse(StringBuilder sb) {
        Settings s = r.settings;
        sb.append("## (b) Streamed chat (SSE)\n\n");
        sb.append("Streams of ").append(s.sseChunks()).append(" chunks ").append(s.sseChunkDelayMs())
                .append(" ms apart, started at a constant ").append(Fmt.rate(s.sseRate())).append(" streams/s for ")
                .append(s.sseDuration().toSeconds()).append(" s").append(rounds(s, s.sseDuration())).append(" over ")
                .append(s.sseConnections())
                .append(" connections, after ").append(s.sseWarmup().toSeconds())
                .append(" s of streams unmeasured, the first third unpaced in closed loop and the rest as measured (a JVM's "
                        + "streaming path needs its own JIT warm-up: the first streams deoptimize what the chat load compiled, "
                        + "and at 100 streams a second C2 was still recompiling it through the measured slices). Time to first byte counts from the intended start (CO-corrected), the uncorrected one from the request's actual write; a gap is the time between "
                        + "two consecutive `data:` events of a stream as they arrive, so the added per-chunk delay is a contender's gap "
                        + "distribution against direct's. Latencies in ms. CPU per stream covers its ")
                .append(s.sseChunks()).append(" chunks, the usage event and `[DONE]`, from the measured phase's start until its last "
                        + "outcome is in the database.\n\n");
        Markdown t = new Markdown("contender", "streams ok", "failed", "TTFB p50", "TTFB p99", "uncorrected TTFB p50 / p99", "gap p50", "gap p99", "gap p99.9",
                "gap max", "vs direct: +TTFB p99", "vs direct: +gap p50 / +gap p99", "vs nginx: +TTFB p99 / +gap p99",
                "CPU µs/stream (proxy / DB / Redis)");
        Map<String, Histogram> ttfb = PercentilePlot.curves();
        Map<String, Histogram> gaps = PercentilePlot.curves();
        for (Map.Entry<String, Results.Run> e : r.sse.entrySet()) {
            Results.Run run = e.getValue();
            if (run.error() != null) {
                t.row(e.getKey(), "failed: " + run.error(), "", "", "", "", "", "", "", "", "", "", "", "");
                continue;
            }
            PhaseStats st = run.result().stats();
            ttfb.put(e.getKey(), st.ttfb);
            gaps.put(e.getKey(), st.gaps);
            RunResult d = ok(r.sse, DIRECT);
            RunResult n = ok(r.sse, NGINX);
            t.row(e.getKey(), Fmt.count(st.ok), Fmt.count(st.failures()) + lastError(st), p(st.ttfb, 50), p(st.ttfb, 99),
                    p(st.ttfbUncorrected, 50) + " / " + p(st.ttfbUncorrected, 99), p(st.gaps, 50), p(st.gaps, 99), p(st.gaps, 99.9), Fmt.ms(Fmt.maxMs(st.gaps)),
                    d == null || e.getKey().equals(DIRECT) ? "—" : Fmt.delta(Fmt.ms(st.ttfb, 99) - Fmt.ms(d.stats().ttfb, 99)),
                    d == null || e.getKey().equals(DIRECT) ? "—" : Fmt.delta(Fmt.ms(st.gaps, 50) - Fmt.ms(d.stats().gaps, 50))
                            + " / " + Fmt.delta(Fmt.ms(st.gaps, 99) - Fmt.ms(d.stats().gaps, 99)),
                    n == null || !e.getKey().equals(TOLLGATE) ? "—" : Fmt.delta(Fmt.ms(st.ttfb, 99) - Fmt.ms(n.stats().ttfb, 99))
                            + " / " + Fmt.delta(Fmt.ms(st.gaps, 99) - Fmt.ms(n.stats().gaps, 99)),
                    cpu(run.cpu()));
        }
        sb.append(t.render()).append('\n');
        String ttfbSvg = name + "-sse-ttfb.svg";
        String gapsSvg = name + "-sse-gaps.svg";
        files.put(ttfbSvg, PercentilePlot.svg("SSE: time to first byte by percentile (CO-corrected)", "time to first byte (ms)", ttfb));
        files.put(gapsSvg, PercentilePlot.svg("SSE: gap between consecutive chunks by percentile (sent " + s.sseChunkDelayMs()
                + " ms apart)", "gap (ms)", gaps));
        sb.append("![SSE time to first byte](").append(ttfbSvg).append(")\n\n");
        sb.append("![SSE gaps between chunks](").append(gapsSvg).append(")\n\n");
    }

    // ------------------------------------------------------------------ (c) uploads

    private void uploads(StringBuilder sb) {
        Settings s = r.settings;
        sb.append("## (c) 512 KB uploads\n\n");
        sb.append("A vision request of exactly ").append(Fmt.count(s.uploadBytes()))
                .append(" bytes (the body limit): `model` first, then one image as a base64 data URL, i.e. one JSON string of "
                        + "almost the whole body. Throughput: closed loop over ").append(s.uploadConnections())
                .append(" connections for ").append(s.uploadDuration().toSeconds()).append(" s. Peak memory: the proxy's "
                        + "VmHWM over that run (reset at its start), nginx's master and workers summed. Held: one more upload sent ")
                .append(s.probeStep() / 1024).append(" KB at a time with ").append(s.probeSettle().toMillis())
                .append(" ms pauses; after each pause the kernel's socket counters give what the proxy has read from the client "
                        + "and not yet written upstream (request heads differ by a few hundred bytes).\n\n");
        Markdown t = new Markdown("contender", "req/s", "MB/s", "p50 ms", "p99 ms", "failed", "RSS before (MB)",
                "peak RSS (MB)", "peak − before (MB)", "held at half (KB)", "held at most (KB)", "probe answer");
        Map<String, Histogram> curves = PercentilePlot.curves();
        for (Map.Entry<String, Results.Upload> e : r.uploads.entrySet()) {
            Results.Upload u = e.getValue();
            if (u.error() != null) {
                t.row(e.getKey(), "failed: " + u.error(), "", "", "", "", "", "", "", "", "", "");
                continue;
            }
            PhaseStats st = u.result().stats();
            curves.put(e.getKey(), st.latency);
            boolean proxy = !e.getKey().equals(DIRECT);
            t.row(e.getKey(), Fmt.rate(u.result().achievedRate()), Fmt.mb(u.result().bodyBytesPerSecond()), p(st.latency, 50),
                    p(st.latency, 99), Fmt.count(st.failures()) + lastError(st), proxy ? Fmt.mb(u.rssBefore()) : "—",
                    proxy ? Fmt.mb(u.peakRss()) : "—", proxy ? Fmt.mb(u.peakRss() - u.rssBefore()) : "—",
                    u.probe() == null ? "—" : Fmt.kb(u.probe().heldAtHalf()),
                    u.probe() == null ? "—" : Fmt.kb(u.probe().maxHeld()),
                    u.probe() == null ? "—" : Integer.toString(u.probe().status()));
        }
        sb.append(t.render()).append('\n');
        String svg = name + "-upload.svg";
        files.put(svg, PercentilePlot.svg("512 KB uploads: latency by percentile (closed loop)", "latency (ms)", curves));
        sb.append("![upload latency](").append(svg).append(")\n\n");
    }

    // ------------------------------------------------------------------ (d) streams

    private void streams(StringBuilder sb) {
        Settings s = r.settings;
        sb.append("## (d) Concurrent open streams\n\n");
        sb.append("Each proxy freshly started and warmed for a few seconds, then ").append(Fmt.count(s.streams()))
                .append(" SSE streams asked for (fewer when the open-file limit says so, see the notes), each on its own connection, opened ")
                .append(Fmt.rate(s.streamOpenRate())).append(" a second; each stream is ").append(s.streamChunks())
                .append(" chunks ").append(s.streamChunkDelayMs()).append(" ms apart. When all have answered they are held ")
                .append(s.streamHold().toSeconds()).append(" s while the proxy's RSS is sampled every 250 ms, then closed. "
                        + "Peak RSS is VmHWM (reset when the streams start). Heap: `jcmd GC.heap_info` during the hold.\n\n");
        Markdown t = new Markdown("contender", "asked", "open at once", "failed", "RSS idle (MB)", "peak RSS (MB)",
                "per stream (KB)", "projected to 10,000 (MB)", "heap used / committed (MB)");
        Map<String, List<double[]>> timeline = new LinkedHashMap<>();
        for (Map.Entry<String, Results.Streams> e : r.streams.entrySet()) {
            Results.Streams st = e.getValue();
            if (st.error() != null) {
                t.row(e.getKey(), Fmt.count(st.asked()), "failed: " + st.error(), "", "", "", "", "", "");
                continue;
            }
            timeline.put(e.getKey(), st.timeline());
            t.row(e.getKey(), Fmt.count(st.asked()), Fmt.count(st.peakActive()),
                    Fmt.count(st.failed()) + (st.lastError() == null ? "" : " (" + st.lastError() + ")"),
                    Fmt.mb(st.rssBefore()), Fmt.mb(st.peakRss()), Fmt.kb(st.bytesPerStream()), Fmt.mb(st.projectedPeak(STREAMS)),
                    st.heap() == null ? "—" : Fmt.mb(st.heap().usedBytes()) + " / " + Fmt.mb(st.heap().committedBytes()));
        }
        sb.append(t.render()).append('\n');
        if (!timeline.isEmpty()) {
            String svg = name + "-streams-rss.svg";
            files.put(svg, TimelinePlot.svg("Concurrent streams: the proxy's resident memory", "RSS (MB)", timeline));
            sb.append("![RSS while streams open, hold and close](").append(svg).append(")\n\n");
        }
    }

    // ------------------------------------------------------------------ helpers

    private static String p(Histogram h, double percentile) {
        return Fmt.ms(Fmt.ms(h, percentile));
    }

    private static String pct(double p) {
        return p == Math.rint(p) ? Integer.toString((int) p) : Double.toString(p);
    }

    private static String lastError(PhaseStats st) {
        return st.failures() > 0 && st.lastError != null ? " (" + st.lastError + ")" : "";
    }

    private static String cpu(Results.Cpu cpu) {
        if (cpu == null || Double.isNaN(cpu.proxyMicrosPerRequest())) {
            return "—";
        }
        return micros(cpu.proxyMicrosPerRequest())
                + (Double.isNaN(cpu.databaseMicrosPerRequest()) ? "" : " / " + micros(cpu.databaseMicrosPerRequest()))
                + (Double.isNaN(cpu.redisMicrosPerRequest()) ? "" : " / " + micros(cpu.redisMicrosPerRequest()));
    }

    private static String micros(double us) {
        return String.format(Locale.ROOT, "%.0f", us);
    }

    private static String versus(Map<String, Results.Run> runs, String self, String base, Function<RunResult, Histogram> h) {
        RunResult b = ok(runs, base);
        RunResult me = ok(runs, self);
        if (b == null || me == null || self.equals(base) || (base.equals(NGINX) && self.equals(DIRECT))) {
            return "—";
        }
        return Fmt.delta(Fmt.ms(h.apply(me), 50) - Fmt.ms(h.apply(b), 50)) + " / "
                + Fmt.delta(Fmt.ms(h.apply(me), 99) - Fmt.ms(h.apply(b), 99));
    }

    private static RunResult ok(Map<String, Results.Run> runs, String name) {
        if (runs == null) {
            return null;
        }
        Results.Run run = runs.get(name);
        return run == null || run.error() != null ? null : run.result();
    }

    private static double failureRatio(RunResult r) {
        long all = r.stats().ok + r.stats().failures();
        return all == 0 ? 1 : (double) r.stats().failures() / all;
    }

    private static String achievedNote(RunResult r) {
        return r.achievedRate() < r.targetRate() * 0.98
                ? " (only " + Fmt.rate(r.achievedRate()) + " of " + Fmt.rate(r.targetRate()) + " req/s answered)" : "";
    }
}
