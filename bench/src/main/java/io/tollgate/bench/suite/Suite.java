package io.tollgate.bench.suite;

import io.tollgate.bench.TollgateBenchServer;
import io.tollgate.bench.load.Drive;
import io.tollgate.bench.load.LoadClient;
import io.tollgate.bench.load.LoadConnection;
import io.tollgate.bench.load.PhaseStats;
import io.tollgate.bench.load.Request;
import io.tollgate.bench.load.RunResult;
import io.tollgate.bench.load.StreamHold;
import io.tollgate.bench.report.Fmt;
import io.tollgate.bench.report.Report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Runs the scenarios against each contender in turn (the fixed rates, the saturation and the SSE
 * measurement in interleaved rounds, see {@link Settings}), all against the same mock upstream
 * process, and fills {@link Results}. Contenders start once (and again, fresh, for the concurrency
 * scenario, so its memory is not the memory of the load before it).
 */
public final class Suite implements AutoCloseable {

    public static final String CHAT = "chat";
    public static final String SSE = "sse";
    public static final String UPLOAD = "upload";
    public static final String STREAMS = "streams";
    public static final List<String> SCENARIOS = List.of(CHAT, SSE, UPLOAD, STREAMS);

    static final String PATH = "/v1/chat/completions";
    static final int CHAT_MAX_TOKENS = 16;

    private final Settings s;
    private final Launch launch;
    private final Path dir;
    private final String nginxBinary;
    private final String wrk;
    private final String adminPg;
    private final Results results;
    private final LoadClient client;
    private final long openFilesLimit;
    private final List<String> wanted;
    private MockUpstreamProcess mock;
    private NginxProcess nginx;
    private RelayProcess relay;
    private TollgateProcess tollgate;
    private TollgateProcess tollgateB;

    public Suite(Settings s, Launch launch, Path dir, String nginxBinary, String wrk, String adminPg, List<String> wanted,
                 Results results) {
        this.wanted = wanted;
        this.s = s;
        this.launch = launch;
        this.dir = dir;
        this.nginxBinary = nginxBinary;
        this.wrk = wrk;
        this.adminPg = adminPg;
        this.results = results;
        this.client = new LoadClient(launch.clientThreads());
        this.openFilesLimit = ProcStats.openFileLimits()[1];
    }

    /** Starts the mock upstream and the proxies. */
    public void start() throws IOException {
        if (launch.pinned() && launch.clientCpus().equals(launch.mockCpus())) {
            results.notes.add("the load generator and the mock upstream share CPU " + launch.clientCpus() + " (too few CPUs "
                    + "to give each its own): `direct` has both ends on one CPU, so its tail latencies carry that CPU's "
                    + "scheduling noise and a proxy's p99 can come out below direct's; the p50 differences are the firm ones");
        }
        mock = MockUpstreamProcess.start(launch, dir);
        log("mock upstream on port " + mock.port() + " (pid " + mock.pid() + ")");
        startProxies();
        results.contenders.clear();
        contenders().forEach(c -> results.contenders.add(c.name()));
    }

    private void startProxies() {
        if (nginxBinary != null && wanted.contains(Contender.NGINX)) {
            try {
                nginx = NginxProcess.start(launch, nginxBinary, mock.port(), openFilesLimit, dir);
                results.nginxConf = Files.readString(nginx.conf());
                log("nginx on port " + nginx.port() + " (" + launch.proxyThreads() + " workers)");
            } catch (IOException | RuntimeException e) {
                nginx = null;
                note("nginx: skipped, it did not start: " + e.getMessage());
            }
        }
        if (wanted.contains(Contender.NETTY)) {
            try {
                relay = RelayProcess.start(launch, mock.port(), dir);
                log("netty relay on port " + relay.port());
            } catch (IOException | RuntimeException e) {
                relay = null;
                note("netty: skipped, it did not start: " + e.getMessage());
            }
        }
        if (wanted.contains(Contender.TOLLGATE_B)) {
            List<String> jvm = TollgateProcess.words(System.getenv("TOLLGATE_BENCH_B_JVM_OPTS"));
            List<String> args = TollgateProcess.words(System.getenv("TOLLGATE_BENCH_B_SERVER_ARGS"));
            String otherJar = System.getenv("TOLLGATE_BENCH_B_JAR");
            String otherBuild = otherJar == null || otherJar.isBlank() ? null
                    : System.getenv().getOrDefault("TOLLGATE_BENCH_B_COMMIT", otherJar);
            try {
                tollgateB = TollgateProcess.start(launch, mock.baseUrl(), adminPg, dir, Contender.TOLLGATE_B,
                        otherBuild == null ? launch.jar() : Path.of(otherJar), jvm, args);
                results.machine.put("tollgate-b", describeB(otherBuild, jvm, args) + "; features "
                        + String.join(", ", tollgateB.features()) + ", garbage collector " + tollgateB.collector());
                log("tollgate-b on port " + tollgateB.port() + " (database " + tollgateB.database() + ")");
            } catch (IOException | RuntimeException e) {
                tollgateB = null;
                note("tollgate-b: skipped, it did not start: " + e.getMessage());
            }
        }
        if (!wanted.contains(Contender.TOLLGATE)) {
            return;
        }
        try {
            tollgate = TollgateProcess.start(launch, mock.baseUrl(), adminPg, dir);
            results.machine.put("Tollgate features", String.join(", ", tollgate.features()));
            results.machine.put("Tollgate transport", tollgate.transport() + " (TOLLGATE_BENCH_TRANSPORT="
                    + launch.transport() + ", the Netty relay's too)");
            results.machine.put("Tollgate busy poll", launch.busyPollMicros() == 0 ? "off: its loops sleep at once"
                    : launch.busyPollMicros() + " µs (proxy.busy_poll_us; TOLLGATE_BENCH_BUSY_POLL_US, the Netty relay's "
                    + "too): a loop polls this long after its last work before it sleeps, so at the fixed rates it "
                    + "never sleeps and its CPU a request there counts the polling");
            results.machine.put("Tollgate garbage collector", tollgate.collector()
                    + (launch.tollgateJvmOptions().stream().anyMatch(o -> o.startsWith("-XX:+Use") && o.endsWith("GC"))
                            ? " (as the JVM options say)" : " (the JVM's own choice for the CPUs it sees)"));
            log("tollgate on port " + tollgate.port() + " (database " + tollgate.database() + ")");
        } catch (IOException | RuntimeException e) {
            tollgate = null;
            note("tollgate: skipped, it did not start: " + e.getMessage());
        }
    }

    private void restartProxies() {
        closeProxies();
        startProxies();
    }

    private void closeProxies() {
        for (Contender proxy : new Contender[] {tollgate, tollgateB, nginx, relay}) {
            if (proxy != null) {
                proxy.close();
            }
        }
        nginx = null;
        relay = null;
        tollgate = null;
        tollgateB = null;
    }

    /** What tollgate-b differs by: another build, more JVM options or arguments, or nothing (an A/A run). */
    private static String describeB(String otherBuild, List<String> jvm, List<String> args) {
        boolean sameOptions = jvm.isEmpty() && args.isEmpty();
        if (otherBuild == null && sameOptions) {
            return "a second Tollgate, the same as the first (an A/A run: the differences between the two are the noise)";
        }
        String b = otherBuild == null ? "a second Tollgate"
                : "a second Tollgate built from " + otherBuild + " (TOLLGATE_BENCH_B_JAR; run.sh --b-commit)";
        if (!sameOptions) {
            b += " with JVM options +[" + String.join(" ", jvm) + "] and server arguments +[" + String.join(" ", args)
                    + "] (TOLLGATE_BENCH_B_JVM_OPTS, TOLLGATE_BENCH_B_SERVER_ARGS)";
        }
        return b;
    }

    /** The contenders in report order: direct, nginx, netty, tollgate, tollgate-b (those that run). */
    List<Contender> contenders() {
        List<Contender> list = new ArrayList<>();
        if (wanted.contains(Contender.DIRECT)) {
            list.add(mock);
        }
        if (nginx != null) {
            list.add(nginx);
        }
        if (relay != null) {
            list.add(relay);
        }
        if (tollgate != null) {
            list.add(tollgate);
        }
        if (tollgateB != null) {
            list.add(tollgateB);
        }
        return list;
    }

    public void run(String scenario) throws Exception {
        if (!warmedUp) {
            // Once, before the first scenario, whichever it is: Tollgate's JIT on one core takes
            // minutes of load to settle. C2 used 40% of the CPU in the first 30 s, still made 111
            // compilations between 70 and 110 s (-XX:+PrintCompilation), and in perf sched delayed
            // the loop's wake-ups by 137 ms in 5 s at 30 s in.
            for (Contender c : contenders()) {
                warm(c);
            }
            warmedUp = true;
            results.notes.add("each contender was warmed with " + s.warmup().toSeconds() + " s of chat load before the first "
                    + "scenario (Tollgate's JIT on one core is still compiling 100 s in), in " + WARMUP_ROUNDS + " rounds on fresh "
                    + "connections, each closed-loop and then a fifth of it at " + Fmt.count(s.rates().getFirst())
                    + " req/s (code compiled under long-lived connections is deoptimized by the first new ones)");
        }
        long t0 = System.nanoTime();
        switch (scenario) {
            case CHAT -> chat();
            case SSE -> sse();
            case UPLOAD -> upload();
            case STREAMS -> streams();
            default -> throw new IllegalArgumentException("unknown scenario " + scenario + "; one of " + SCENARIOS);
        }
        log(scenario + " done in " + Math.round((System.nanoTime() - t0) / 1e9) + " s");
    }

    // ------------------------------------------------------------------ rounds

    /**
     * Calls {@code slice} for each contender, {@link Settings#rounds} times over: round after
     * round, every contender in turn, each round starting one contender further along. So every
     * contender's measurement is spread over the whole phase, and two contenders compared were
     * measured in the same minutes, not one after the other.
     */
    private void inRounds(List<Contender> contenders, Consumer<Contender> slice) {
        for (int round = 0; round < s.rounds(); round++) {
            for (Contender c : rotated(contenders, round)) {
                slice.accept(c);
            }
        }
    }

    /** The list starting at its {@code round}-th element (mod its size), the rest after in order. */
    static <T> List<T> rotated(List<T> list, int round) {
        List<T> out = new ArrayList<>(list);
        if (!out.isEmpty()) {
            Collections.rotate(out, -(round % out.size()));
        }
        return out;
    }

    /**
     * What one contender's slices of a phase share: the CPU meter that runs only in them, the
     * worst catching up after any, and the first failure (the slices after it are skipped).
     */
    private abstract static class Sliced {
        final CpuMeter cpu;
        Contender.Settled settled = Contender.Settled.NOTHING;
        String error;

        Sliced(Contender c) {
            cpu = CpuMeter.paused(c);
        }

        /** Whether this slice is not to run: an earlier one failed, or the process is gone (which fails it). */
        boolean skip(Contender c) {
            if (error == null && !c.alive()) {
                fail("the process is gone; see " + c.log());
            }
            return error != null;
        }

        /** This slice's load is over: what follows until the CPU meter pauses is its catching up. */
        void loadEnded() {
            cpu.loadEnded();
        }

        void fail(String why) {
            cpu.pause();
            if (error == null) {
                error = why;
            }
        }
    }

    /** One contender's slices of a phase, summed: its requests and latencies, its CPU, its catching up. */
    private static final class Slices extends Sliced {
        RunResult result;

        Slices(Contender c) {
            super(c);
        }

        void add(RunResult r, Contender.Settled s) {
            result = result == null ? r : result.plus(r);
            settled = settled.worst(s);
        }

        Results.Run run() {
            if (error != null || result == null) {
                return Results.Run.failed(error != null ? error : "not measured");
            }
            return new Results.Run(result, cpu.stop(result.stats().ok + result.stats().non2xx), settled, null);
        }
    }

    private static Map<Contender, Slices> slices(List<Contender> contenders) {
        Map<Contender, Slices> m = new LinkedHashMap<>();
        contenders.forEach(c -> m.put(c, new Slices(c)));
        return m;
    }

    // ------------------------------------------------------------------ (a) small chat

    private void chat() {
        List<Contender> cs = contenders();
        for (int rate : s.rates()) {
            Map<Contender, Slices> acc = slices(cs);
            inRounds(cs, c -> measureRate(c, rate, acc.get(c)));
            acc.forEach((c, sl) -> {
                Results.Run run = sl.run();
                results.rate(rate).put(c.name(), run);
                log("chat %d rps %-8s %s".formatted(rate, c.name(), summary(run)));
            });
        }
        Map<Contender, Saturating> sat = new LinkedHashMap<>();
        cs.forEach(c -> sat.put(c, new Saturating(c, PgWaits.start(adminPg, c))));
        cs.forEach(this::warmForWrk);
        inRounds(cs, c -> saturate(c, sat.get(c)));
        sat.forEach((c, acc) -> {
            Results.Saturation run = acc.result();
            results.saturation.put(c.name(), run);
            results.saturationRounds.put(c.name(), List.copyOf(acc.rates));
            log("chat saturation %-8s %s".formatted(c.name(), run.error() != null ? "FAILED " + run.error()
                    : Fmt.rate(run.requestsPerSecond()) + " req/s (rounds " + acc.rates.stream().map(Fmt::rate)
                    .collect(Collectors.joining(", ")) + ") p50 " + Fmt.ms(run.p50Ms()) + " ms p99 "
                    + Fmt.ms(run.p99Ms()) + " ms errors " + run.errors()));
        });
    }

    private boolean warmedUp;

    /**
     * Rounds of the warm-up, each on connections of its own. A JVM's hot paths compiled under one
     * set of long-lived connections are deoptimized by the first new ones: in a run with
     * {@code -Xlog:deoptimization}, the first measured rate's fresh connections hit 45 uncommon
     * traps in the read path (channelReadComplete, epollInReady, the receive allocator's handle)
     * and C2 then took 435 ms of the proxy's CPU in a second, inside the measured window. A
     * deployment's proxy sees connections come and go all day; the warm-up now does too.
     */
    static final int WARMUP_ROUNDS = 8;

    /**
     * Warms a contender with rounds of closed-loop chat load, each on fresh connections and
     * ending with a fifth of it at the first measured rate, so that the JIT has also seen the
     * paced arrivals (one request per wake-up) that the rate phases send.
     */
    private void warm(Contender c) {
        if (!c.alive()) {
            return;
        }
        Duration round = s.warmup().dividedBy(WARMUP_ROUNDS);
        Duration paced = round.dividedBy(5);
        Request request = chatRequest(c, false, Map.of());
        PhaseStats total = new PhaseStats();
        long closedOk = 0;
        double seconds = 0;
        for (int i = 0; i < WARMUP_ROUNDS; i++) {
            List<LoadConnection> conns = client.connect(c.host(), c.port(), s.rateConnections());
            try {
                RunResult r = Drive.closedLoop(conns, request, round.minus(paced), s.grace());
                total.add(r.stats());
                closedOk += r.stats().ok;
                seconds += r.seconds();
                total.add(Drive.constantRate(conns, request, s.rates().getFirst(), paced, s.grace(), 0).stats());
            } finally {
                LoadClient.closeAll(conns);
            }
        }
        Contender.Settled settled = c.settle();
        log("warm-up %-8s %s req/s closed-loop, %d failed%s%s".formatted(c.name(),
                Fmt.rate(seconds <= 0 ? 0 : closedOk / seconds), total.failures(),
                total.lastError == null ? "" : " (" + total.lastError + ")", drained(settled)));
    }

    /** ", N outcomes settled T after it" for a log line; empty when nothing waited. */
    private static String drained(Contender.Settled settled) {
        if (settled.maxPending() == 0) {
            return "";
        }
        return ", %s outcomes settled %s after it%s".formatted(Fmt.count(settled.maxPending()),
                Fmt.seconds(settled.drainMillis()), settled.drained() ? "" : " (NOT all: still draining)");
    }

    private void measureRate(Contender c, int rate, Slices acc) {
        Request req = chatRequest(c, false, Map.of());
        slice(c, acc, s.rateConnections(), true,
                conns -> Drive.constantRate(conns, req, rate, s.slice(s.rateDuration()), s.grace(), 0));
    }

    /**
     * Runs {@code load} on fresh connections to {@code c}, then waits for its settlements to catch
     * up; counted into {@code acc} when {@code measured} (CPU included), else a warm-up.
     */
    private void slice(Contender c, Slices acc, int connections, boolean measured,
                       Function<List<LoadConnection>, RunResult> load) {
        if (acc.skip(c)) {
            return;
        }
        List<LoadConnection> conns = null;
        try {
            conns = client.connect(c.host(), c.port(), connections);
            if (!measured) {
                load.apply(conns);
                c.settle();
                return;
            }
            acc.cpu.resume();
            RunResult r = load.apply(conns);
            acc.loadEnded();
            Contender.Settled settled = c.settle();
            acc.cpu.pause();
            acc.add(r, settled);
        } catch (RuntimeException e) {
            acc.fail(e.toString());
        } finally {
            if (conns != null) {
                LoadClient.closeAll(conns);
            }
        }
    }

    /**
     * A few seconds of the saturation's own load, unmeasured, before its first slice, as every
     * other measurement has its own: wrk's requests are not the Java generator's that the warm-up
     * and the fixed rates send (other headers, other connections). With -XX:+PrintCompilation,
     * Tollgate's JIT still made 30-80 compilations every 10 s through the fixed rates and the
     * saturation, with this warm-up or without; what it changes is that no contender meets wrk
     * for the first time in a measured slice.
     */
    private void warmForWrk(Contender c) {
        if (wrk == null || !c.alive()) {
            return;
        }
        try {
            saturationWrk(c, Duration.ofSeconds(s.quick() ? 1 : 5));
            c.settle();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log("wrk warm-up of " + c.name() + " failed: " + e);
        }
    }

    /** wrk's closed loop of small chats against {@code c} for {@code length}, on the saturation's connections. */
    private Wrk.Result saturationWrk(Contender c, Duration length) throws IOException, InterruptedException {
        return Wrk.run(launch.pinClient(), wrk, "http://" + c.host() + ":" + c.port() + PATH, c.headers(),
                Bodies.chat(TollgateBenchServer.MODEL, false, CHAT_MAX_TOKENS), s.saturationConnections(),
                launch.clientThreads(), length, dir);
    }

    /**
     * One contender's saturation slices: requests over their summed time, and the median
     * slice's p50 and p99 (wrk's percentiles of separate runs do not add up).
     */
    private static final class Saturating extends Sliced {
        final PgWaits waits;
        final List<Double> rates = new ArrayList<>();
        final List<Double> p50s = new ArrayList<>();
        final List<Double> p99s = new ArrayList<>();
        String tool = "";
        long requests;
        double seconds;
        long errors;
        /** Each CPU's busy and total ticks over the load slices, and the reading at the slice's start. */
        long[][] cpuSums = new long[0][];
        long[][] cpuAtStart;

        Saturating(Contender c, PgWaits waits) {
            super(c);
            this.waits = waits;
            if (waits != null) {
                waits.pause();
            }
        }

        /** The load starts: the CPUs' time from here to {@link #loadEnded} is this contender's. */
        void loadStarts() {
            cpuAtStart = ProcStats.cpuTicks();
        }

        @Override
        void loadEnded() {
            super.loadEnded();
            long[][] now = ProcStats.cpuTicks();
            if (cpuAtStart == null || now.length != cpuAtStart.length) {
                return;                                      // a CPU came or went: this slice is not counted
            }
            if (cpuSums.length == 0) {
                cpuSums = new long[now.length][2];
            }
            for (int i = 0; i < now.length && i < cpuSums.length; i++) {
                cpuSums[i][0] += now[i][0] - cpuAtStart[i][0];
                cpuSums[i][1] += now[i][1] - cpuAtStart[i][1];
            }
            cpuAtStart = null;
        }

        List<Double> cpuBusy() {
            List<Double> busy = new ArrayList<>();
            for (long[] c : cpuSums) {
                busy.add(c[1] > 0 ? (double) c[0] / c[1] : Double.NaN);
            }
            return busy;
        }

        void add(String tool, double rate, long requests, double p50, double p99, long errors, Contender.Settled s) {
            this.tool = tool;
            rates.add(rate);
            p50s.add(p50);
            p99s.add(p99);
            this.requests += requests;
            this.seconds += rate > 0 ? requests / rate : 0;
            this.errors += errors;
            settled = settled.worst(s);
        }

        Results.Saturation result() {
            String db = null;
            if (waits != null) {
                db = waits.summary();
                waits.close();
            }
            if (error != null || rates.isEmpty()) {
                return Results.Saturation.failed(error != null ? error : "not measured");
            }
            return new Results.Saturation(tool, seconds <= 0 ? 0 : requests / seconds, requests, median(p50s), median(p99s),
                    errors, cpu.stop(requests), settled, db, null, cpuBusy());
        }

        private static double median(List<Double> xs) {
            List<Double> sorted = xs.stream().sorted().toList();
            int n = sorted.size();
            return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        }
    }

    private void saturate(Contender c, Saturating acc) {
        if (acc.skip(c)) {
            return;
        }
        Duration slice = s.slice(s.saturation());
        try {
            if (acc.waits != null) {
                acc.waits.resume();
            }
            acc.cpu.resume();
            if (wrk != null) {
                acc.loadStarts();
                Wrk.Result w = saturationWrk(c, slice);
                acc.loadEnded();
                Contender.Settled settled = c.settle();
                acc.cpu.pause();
                acc.add("wrk", w.requestsPerSecond(), w.requests(), w.p50(), w.p99(), w.non2xx() + w.socketErrors(), settled);
                return;
            }
            List<LoadConnection> conns = client.connect(c.host(), c.port(), s.saturationConnections());
            try {
                acc.loadStarts();
                RunResult r = Drive.closedLoop(conns, chatRequest(c, false, Map.of()), slice, s.grace());
                acc.loadEnded();
                Contender.Settled settled = c.settle();
                acc.cpu.pause();
                acc.add("Java generator, closed loop", r.achievedRate(), r.stats().ok, Fmt.ms(r.stats().latency, 50),
                        Fmt.ms(r.stats().latency, 99), r.stats().failures(), settled);
            } finally {
                LoadClient.closeAll(conns);
            }
        } catch (Exception e) {
            acc.fail(e.toString());
        } finally {
            if (acc.waits != null) {
                acc.waits.pause();
            }
        }
    }

    // ------------------------------------------------------------------ (b) SSE

    private void sse() {
        Map<String, String> mockHeaders = Map.of("x-mock-tokens", Integer.toString(s.sseChunks()),
                "x-mock-chunk-delay-ms", Integer.toString(s.sseChunkDelayMs()));
        Duration grace = s.grace().plus(s.sseStreamLength());
        List<Contender> cs = contenders();
        Map<Contender, Slices> acc = slices(cs);
        // Each contender's streaming path warmed first, in turn: a third of the warm-up at full speed,
        // the rest at the scenario's pace; then the measured slices in rounds.
        Duration fast = s.sseWarmup().dividedBy(3);
        for (Contender c : cs) {
            sseFastWarmup(c, acc.get(c), grace, fast);
            sseSlice(c, acc.get(c), mockHeaders, grace, s.sseWarmup().minus(fast), false);
        }
        inRounds(cs, c -> sseSlice(c, acc.get(c), mockHeaders, grace, s.slice(s.sseDuration()), true));
        acc.forEach((c, sl) -> {
            Results.Run run = sl.run();
            results.sse.put(c.name(), run);
            if (run.error() != null) {
                log("sse " + c.name() + " FAILED " + run.error());
                return;
            }
            PhaseStats st = run.result().stats();
            log("sse %-8s %d streams ok, ttfb p99 %s ms, gap p50 %s p99 %s ms, %d failed".formatted(c.name(), st.ok,
                    Fmt.ms(Fmt.ms(st.ttfb, 99)), Fmt.ms(Fmt.ms(st.gaps, 50)), Fmt.ms(Fmt.ms(st.gaps, 99)), st.failures()));
        });
    }

    /**
     * Streams of the scenario's length as fast as the contender takes them (closed loop, the mock
     * not pacing its chunks), unmeasured. The first streams a JVM sees deoptimize what the chat
     * load compiled (with -XX:+PrintCompilation, 57 uncommon traps within half a second of Tollgate's
     * first stream: the header parser, the encoder, the event loop's run), and at the scenario's
     * 100 streams a second the code run once a stream takes most of a minute to reach C2 again:
     * through the measured rounds that followed 60 s of paced streams, the compiler still made 57
     * tier-4 compilations (the upstream-content path and the event loop's task runner among them)
     * and took 8 ms a second of the proxy's CPU in Tollgate's slices, in slices of up to 4 ms
     * ahead of the event loop's wake-ups (perf sched). A gateway in service
     * streams all day; here it gets there in seconds, and the paced warm-up that follows is the
     * measured slices' own shape.
     */
    private void sseFastWarmup(Contender c, Slices acc, Duration grace, Duration length) {
        Map<String, String> unpaced = Map.of("x-mock-tokens", Integer.toString(s.sseChunks()),
                "x-mock-chunk-delay-ms", "0");
        Request req = chatRequest(c, true, unpaced);
        slice(c, acc, s.rateConnections(), false, conns -> Drive.closedLoop(conns, req, length, grace));
    }

    /** Streams at the scenario's rate for {@code length}: measured into {@code acc}, or a warm-up. */
    private void sseSlice(Contender c, Slices acc, Map<String, String> mockHeaders, Duration grace, Duration length,
                          boolean measured) {
        Request req = chatRequest(c, true, mockHeaders);
        slice(c, acc, s.sseConnections(), measured,
                conns -> Drive.constantRate(conns, req, s.sseRate(), length, grace, s.sseChunks()));
    }

    // ------------------------------------------------------------------ (c) uploads

    private void upload() {
        byte[] body = Bodies.upload(TollgateBenchServer.MODEL, s.uploadBytes());
        for (Contender c : contenders()) {
            if (!c.alive()) {
                results.uploads.put(c.name(), Results.Upload.failed("the process is gone; see " + c.log()));
                continue;
            }
            List<LoadConnection> conns = null;
            try {
                Request req = Request.post(c.host(), c.port(), PATH, c.headers(), body, false);
                conns = client.connect(c.host(), c.port(), s.uploadConnections());
                Drive.closedLoop(conns, req, s.uploadWarmup(), s.grace());
                c.settle();
                List<Long> pids = c.proxyPids();
                long before = ProcStats.rss(pids);
                ProcStats.resetPeak(pids);
                RunResult r = Drive.closedLoop(conns, req, s.uploadDuration(), s.grace());
                long peak = ProcStats.peakRss(pids);
                LoadClient.closeAll(conns);
                conns = null;
                c.settle();
                UploadProbe.Result probe = null;
                if (!pids.isEmpty()) {
                    probe = UploadProbe.run(c.host(), c.port(), mock.port(),
                            UploadProbe.head(c.host(), c.port(), PATH, c.headers(), body.length), body, s.probeStep(),
                            s.probeSettle());
                    c.settle();
                }
                results.uploads.put(c.name(), new Results.Upload(r, before, peak, probe, null));
                log("upload %-8s %s req/s (%s MB/s), p99 %s ms, %d failed, peak RSS %s MB, held at most %s KB"
                        .formatted(c.name(), Fmt.rate(r.achievedRate()), Fmt.mb(r.bodyBytesPerSecond()),
                                Fmt.ms(Fmt.ms(r.stats().latency, 99)), r.stats().failures(), Fmt.mb(peak),
                                probe == null ? "—" : Fmt.kb(probe.maxHeld())));
            } catch (Exception e) {
                results.uploads.put(c.name(), Results.Upload.failed(e.toString()));
                log("upload " + c.name() + " FAILED " + e);
            } finally {
                if (conns != null) {
                    LoadClient.closeAll(conns);
                }
            }
        }
    }

    // ------------------------------------------------------------------ (d) concurrent streams

    /**
     * Streams a proxy can hold here: two sockets each (client and upstream) within the open-file
     * limit, less a margin: nginx, one worker, refuses ("worker_connections are not enough") from
     * about 1,200 connections short of its limit on, and the JVM has files of its own.
     */
    int streamsAllowed() {
        long byFiles = (openFilesLimit - 2000) / 2 / 100 * 100;
        return (int) Math.max(100, Math.min(s.streams(), byFiles));
    }

    private void streams() throws InterruptedException {
        int n = streamsAllowed();
        if (n < s.streams()) {
            note("streams: measured at %,d concurrent streams, not %,d: the open-file limit here is %,d (hard) and a proxy holds two sockets per stream (client and upstream); memory is projected to %,d linearly"
                    .formatted(n, s.streams(), openFilesLimit, Report.STREAMS));
        } else if (n < Report.STREAMS) {
            note("streams: a quick run holds %,d streams; memory is projected to %,d linearly".formatted(n, Report.STREAMS));
        }
        restartProxies();
        Map<String, String> slow = Map.of("x-mock-tokens", Integer.toString(s.streamChunks()),
                "x-mock-chunk-delay-ms", Integer.toString(s.streamChunkDelayMs()));
        for (Contender c : contenders()) {
            if (c == mock) {
                continue;                                     // no proxy, no proxy memory
            }
            if (!c.alive()) {
                results.streams.put(c.name(), Results.Streams.failed(n, "the process is gone; see " + c.log()));
                continue;
            }
            try {
                results.streams.put(c.name(), holdStreams(c, n, chatRequest(c, true, slow)));
                Results.Streams r = results.streams.get(c.name());
                log("streams %-8s %d at once (asked %d), %d failed, RSS %s → peak %s MB, heap %s".formatted(c.name(),
                        r.peakActive(), n, r.failed(), Fmt.mb(r.rssBefore()), Fmt.mb(r.peakRss()),
                        r.heap() == null ? "—" : Fmt.mb(r.heap().usedBytes()) + " MB used"));
            } catch (RuntimeException e) {
                results.streams.put(c.name(), Results.Streams.failed(n, e.toString()));
                log("streams " + c.name() + " FAILED " + e);
            }
        }
    }

    private Results.Streams holdStreams(Contender c, int n, Request request) throws InterruptedException {
        // A short warm-up on the fresh process, so the JIT has seen the streaming path.
        List<LoadConnection> conns = client.connect(c.host(), c.port(), 16);
        try {
            Drive.closedLoop(conns, chatRequest(c, false, Map.of()), Duration.ofSeconds(2), s.grace());
            Drive.constantRate(conns, chatRequest(c, true, Map.of("x-mock-tokens", "10", "x-mock-chunk-delay-ms", "5")),
                    100, Duration.ofSeconds(2), s.grace(), 0);
        } finally {
            LoadClient.closeAll(conns);
        }
        c.settle();
        List<Long> pids = c.proxyPids();
        long before = ProcStats.rss(pids);
        ProcStats.resetPeak(pids);
        List<double[]> timeline = new ArrayList<>();
        long t0 = System.nanoTime();
        long sampledPeak = before;
        int peakActive = 0;
        ProcStats.Heap heap = null;
        try (StreamHold hold = StreamHold.open(client, c.host(), c.port(), request, n, s.streamOpenRate())) {
            // Until every stream answered (or failed), bounded by how long a stream lasts.
            long openDeadline = t0 + Duration.ofMillis((long) (n / s.streamOpenRate() * 1000)).toNanos()
                    + Duration.ofMillis((long) s.streamChunks() * s.streamChunkDelayMs()).toNanos() * 3 / 4;
            while (hold.active() + hold.completed() + hold.failed() < n && System.nanoTime() < openDeadline && c.alive()) {
                sampledPeak = Math.max(sampledPeak, sample(pids, t0, timeline));
                peakActive = Math.max(peakActive, hold.active());
                Thread.sleep(250);
            }
            long holdEnd = System.nanoTime() + s.streamHold().toNanos();
            boolean heapTaken = false;
            while (System.nanoTime() < holdEnd && c.alive()) {
                sampledPeak = Math.max(sampledPeak, sample(pids, t0, timeline));
                peakActive = Math.max(peakActive, hold.active());
                if (!heapTaken && c.jvmPid() > 0 && System.nanoTime() > holdEnd - s.streamHold().toNanos() / 2) {
                    heap = ProcStats.heap(launch.javaHome(), c.jvmPid()).orElse(null);
                    heapTaken = true;
                }
                Thread.sleep(250);
            }
            peakActive = Math.max(peakActive, hold.active());
            int connected = hold.connected();
            int completed = hold.completed();
            int failed = hold.failed();
            String lastError = hold.lastError();
            hold.close();
            long after = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (System.nanoTime() < after) {
                sample(pids, t0, timeline);
                Thread.sleep(250);
            }
            long peak = ProcStats.peakRss(pids);
            return new Results.Streams(n, connected, peakActive, completed, failed, before, sampledPeak, peak, heap,
                    timeline, lastError, null);
        } finally {
            c.settle();
        }
    }

    private static long sample(List<Long> pids, long t0, List<double[]> timeline) {
        long rss = ProcStats.rss(pids);
        timeline.add(new double[] {(System.nanoTime() - t0) / 1e9, rss / (1024.0 * 1024.0)});
        return rss;
    }

    // ------------------------------------------------------------------ helpers

    private Request chatRequest(Contender c, boolean stream, Map<String, String> extra) {
        Map<String, String> headers = new LinkedHashMap<>(c.headers());
        headers.putAll(extra);
        int maxTokens = stream ? Math.max(256, s.sseChunks() + s.streamChunks()) : CHAT_MAX_TOKENS;
        return Request.post(c.host(), c.port(), PATH, headers,
                Bodies.chat(TollgateBenchServer.MODEL, stream, maxTokens).getBytes(StandardCharsets.UTF_8), stream);
    }

    private static String summary(Results.Run run) {
        if (run.error() != null) {
            return "FAILED " + run.error();
        }
        RunResult r = run.result();
        return "%s req/s p50 %s ms p99 %s ms, %d failed, %d unsent%s".formatted(Fmt.rate(r.achievedRate()),
                Fmt.ms(Fmt.ms(r.stats().latency, 50)), Fmt.ms(Fmt.ms(r.stats().latency, 99)), r.stats().failures(),
                r.stats().unsent, r.stats().lastError == null ? "" : " (" + r.stats().lastError + ")");
    }

    private void note(String line) {
        results.notes.add(line);
        log(line);
    }

    static void log(String line) {
        System.out.println(LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + "  " + line);
        System.out.flush();
    }

    Optional<TollgateProcess> tollgate() {
        return Optional.ofNullable(tollgate);
    }

    MockUpstreamProcess mock() {
        return mock;
    }

    @Override
    public void close() {
        closeProxies();
        if (mock != null) {
            mock.close();
        }
        client.close();
    }
}
