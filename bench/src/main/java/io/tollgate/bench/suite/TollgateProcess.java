package io.tollgate.bench.suite;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Tollgate ({@code TollgateBenchServer}) in its own JVM on the proxy CPUs, every feature on. */
final class TollgateProcess extends JvmProxyContender {

    private static final Pattern READY = Pattern.compile(
            "ready port=(\\d+) key=(\\S+) model=(\\S+) database=(\\S+) pid=(\\d+)(?: features=(\\S+))?(?: gc=(\\S+))?(?: transport=(\\S+))?");
    private static final Pattern PENDING = Pattern.compile("stats pending_outcomes=(\\d+)");

    private final String name;
    private final String key;
    private final String database;
    private final AtomicLong pending;
    private final AtomicLong maxPending;
    private final List<String> jvmOptions;
    private final List<String> features;
    private final String collector;
    private final String transport;

    private TollgateProcess(Child child, int port, String name, String key, String database, AtomicLong pending,
                            AtomicLong maxPending, List<String> jvmOptions, List<String> features, String collector,
                            String transport) {
        super(child, port);
        this.name = name;
        this.key = key;
        this.database = database;
        this.pending = pending;
        this.maxPending = maxPending;
        this.jvmOptions = jvmOptions;
        this.features = features;
        this.collector = collector;
        this.transport = transport;
    }

    static TollgateProcess start(Launch launch, String upstreamBaseUrl, String adminPg, Path dir) throws IOException {
        return start(launch, upstreamBaseUrl, adminPg, dir, TOLLGATE, launch.jar(), List.of(), List.of());
    }

    /**
     * A Tollgate by another name, run from {@code jar} (the suite's, or another build's), with
     * {@code moreJvmOptions} after the suite's Tollgate options (a later -XX option wins) and
     * {@code moreArgs} after its arguments: the B of an A/B run.
     */
    static TollgateProcess start(Launch launch, String upstreamBaseUrl, String adminPg, Path dir, String name, Path jar,
                                 List<String> moreJvmOptions, List<String> moreArgs) throws IOException {
        CompletableFuture<Matcher> ready = new CompletableFuture<>();
        AtomicLong pending = new AtomicLong();
        AtomicLong maxPending = new AtomicLong();
        List<String> options = new ArrayList<>(launch.tollgateJvmOptions());
        options.addAll(moreJvmOptions);
        List<String> args = new ArrayList<>(List.of("--upstream", upstreamBaseUrl, "--port", "0",
                "--io-threads", Integer.toString(launch.proxyThreads()), "--transport", launch.transport(),
                "--busy-poll-us", Integer.toString(launch.busyPollMicros())));
        if (adminPg != null) {
            args.addAll(List.of("--pg", adminPg));
        }
        // Comparisons with a piece off (TollgateBenchServer --help); the report lists the features it ran with.
        args.addAll(words(System.getenv("TOLLGATE_BENCH_SERVER_ARGS")));
        args.addAll(moreArgs);
        Child child = Child.start(name + "-" + System.currentTimeMillis(),
                launch.java(jar, launch.pinProxy(), options, "io.tollgate.bench.TollgateBenchServer", args.toArray(String[]::new)),
                dir, line -> {
                    Matcher m = READY.matcher(line);
                    if (m.find()) {
                        ready.complete(m);
                    }
                    Matcher p = PENDING.matcher(line);
                    if (p.find()) {
                        long n = Long.parseLong(p.group(1));
                        pending.set(n);
                        maxPending.accumulateAndGet(n, Math::max);
                    }
                });
        try {
            Matcher m = ready.get(120, TimeUnit.SECONDS);
            return new TollgateProcess(child, Integer.parseInt(m.group(1)), name, m.group(2), m.group(4), pending, maxPending,
                    options, m.group(6) == null ? List.of() : List.of(m.group(6).split(",")),
                    m.group(7) == null ? "?" : m.group(7), m.group(8) == null ? "?" : m.group(8));
        } catch (Exception e) {
            child.stop(Duration.ofSeconds(20));
            throw new IllegalStateException("Tollgate did not start (log " + child.log() + "):\n" + child.tail(), e);
        }
    }

    /** The words of an option string (the environment's, the command line's); none for null or blank. */
    static List<String> words(String s) {
        return s == null || s.isBlank() ? List.of() : List.of(s.trim().split("\\s+"));
    }

    @Override
    public String name() {
        return name;
    }

    String database() {
        return database;
    }

    /** What the server turned on, as it printed it: key-check, settlement, journal, redis-rate-limit, … */
    List<String> features() {
        return features;
    }

    /** The socket layer of its event loops: io_uring, epoll or nio. */
    String transport() {
        return transport;
    }

    /** The garbage collector the JVM ran with (its own choice when the options name none). */
    String collector() {
        return collector;
    }

    List<String> jvmOptions() {
        return jvmOptions;
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("Authorization", "Bearer " + key);
    }

    /**
     * Waits (up to 5 minutes) until every outcome is in the database; the stats line comes once a
     * second. PostgreSQL runs at SCHED_IDLE in the bench, so after a closed-loop run it drains
     * most of the backlog here: the next phase, of whichever contender, must not share the CPU
     * with that (the 120 s warm-up leaves some 3.5 million outcomes, a minute and a half of work).
     */
    @Override
    public Settled settle() {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MINUTES.toNanos(5);
        try {
            Thread.sleep(1_100);                              // at least one fresh stats line
            while (pending.get() > 0 && System.nanoTime() < deadline && alive()) {
                Thread.sleep(250);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new Settled(maxPending.getAndSet(pending.get()), pending.get() == 0,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    @Override
    public void close() {
        child.stop(Duration.ofSeconds(30));
    }
}
