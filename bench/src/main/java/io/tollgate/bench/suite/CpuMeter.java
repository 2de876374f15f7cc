package io.tollgate.bench.suite;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time a contender spends over a phase: its proxy processes, and for Tollgate the
 * PostgreSQL backends serving its database (the money path runs there too) and, when its rate
 * limit is in Redis, the redis-server processes (nothing else uses them during a phase); and
 * the proxy's threads by name, with their waits for a CPU (see {@link Results.ThreadUse}).
 *
 * <p>A span counted may go on after its load, while Tollgate's outcomes reach the database: that
 * CPU belongs to the load and is counted, but the threads' rates are a second of load, not of the
 * span ({@link #loadEnded}): over the span, a loop busy through 5 s of load and idle through 5 s of
 * catching up would read as half busy.
 */
final class CpuMeter {

    private final Contender contender;
    private final Map<Long, Long> before = new HashMap<>();
    private final Map<Long, Long> dbBefore = new HashMap<>();
    private final Map<Long, Long> redisBefore = new HashMap<>();
    private final Map<String, long[]> threadsBefore = new HashMap<>();
    private final Map<String, long[]> threadSums = new HashMap<>();
    private long startNanos;
    private boolean running;
    private long proxyNanos;
    private long dbNanos;
    private long redisNanos;
    private boolean db;
    private boolean redis;
    /** The spans' load time, when {@link #loadEnded} marked it; else each span's whole. */
    private long loadNanos;
    private boolean loadMarked;

    private CpuMeter(Contender contender) {
        this.contender = contender;
    }

    /** A meter that counts from now. */
    static CpuMeter start(Contender c) {
        CpuMeter m = new CpuMeter(c);
        m.resume();
        return m;
    }

    /** A meter that counts nothing until {@link #resume}: one phase measured in slices. */
    static CpuMeter paused(Contender c) {
        return new CpuMeter(c);
    }

    /** Counts from now on, until {@link #pause} or {@link #stop}. */
    void resume() {
        if (running) {
            return;
        }
        before.clear();
        dbBefore.clear();
        redisBefore.clear();
        threadsBefore.clear();
        for (long pid : contender.proxyPids()) {
            before.put(pid, ProcStats.cpuNanos(pid));
            ProcStats.addThreads(pid, threadsBefore);
        }
        for (long pid : databasePids(contender)) {
            dbBefore.put(pid, ProcStats.cpuNanos(pid));
        }
        for (long pid : redisPids(contender)) {
            redisBefore.put(pid, ProcStats.cpuNanos(pid));
        }
        startNanos = System.nanoTime();
        running = true;
    }

    /**
     * The load of this span is over; what follows until {@link #pause} (the catching up) is still
     * counted, but not as time the threads' rates are spread over.
     */
    void loadEnded() {
        if (running && !loadMarked) {
            loadNanos += System.nanoTime() - startNanos;
            loadMarked = true;
        }
    }

    /** Adds what was spent since {@link #resume} and stops counting. */
    void pause() {
        if (!running) {
            return;
        }
        running = false;
        if (!loadMarked) {
            loadNanos += System.nanoTime() - startNanos;
        }
        loadMarked = false;
        Map<String, long[]> threadsAfter = new HashMap<>();
        for (long pid : contender.proxyPids()) {
            proxyNanos += ProcStats.cpuNanos(pid) - before.getOrDefault(pid, 0L);
            ProcStats.addThreads(pid, threadsAfter);
        }
        threadsAfter.forEach((name, a) -> {
            long[] b = threadsBefore.getOrDefault(name, new long[3]);
            long[] sum = threadSums.computeIfAbsent(name, k -> new long[3]);
            for (int i = 0; i < sum.length; i++) {
                sum[i] += Math.max(0, a[i] - b[i]);
            }
        });
        List<Long> dbPids = databasePids(contender);
        for (long pid : dbPids) {
            dbNanos += ProcStats.cpuNanos(pid) - dbBefore.getOrDefault(pid, 0L);
        }
        db |= !dbPids.isEmpty();
        for (long pid : redisBefore.keySet()) {
            redisNanos += ProcStats.cpuNanos(pid) - redisBefore.get(pid);
        }
        redis |= !redisBefore.isEmpty();
    }

    /** Per-request CPU of every counted span, over {@code requests} answered requests in them. */
    Results.Cpu stop(long requests) {
        pause();
        if (requests <= 0 || contender.proxyPids().isEmpty()) {
            return Results.Cpu.NONE;
        }
        return new Results.Cpu(proxyNanos / 1000.0 / requests, db ? dbNanos / 1000.0 / requests : Double.NaN,
                redis ? redisNanos / 1000.0 / requests : Double.NaN, threadUse(Map.of(), threadSums, loadNanos));
    }

    /**
     * Each thread name's CPU, wait and slices a second between the two readings, busiest first;
     * names under 0.5 ms of CPU a second are left out. A thread started meanwhile counts from 0.
     */
    static List<Results.ThreadUse> threadUse(Map<String, long[]> before, Map<String, long[]> after, long elapsedNanos) {
        double seconds = elapsedNanos / 1e9;
        List<Results.ThreadUse> out = new ArrayList<>();
        if (seconds <= 0) {
            return out;
        }
        after.forEach((name, a) -> {
            long[] b = before.getOrDefault(name, new long[3]);
            double cpu = Math.max(0, a[0] - b[0]) / 1e6 / seconds;
            if (cpu >= 0.5) {
                out.add(new Results.ThreadUse(name, cpu, Math.max(0, a[1] - b[1]) / 1e6 / seconds,
                        Math.max(0, a[2] - b[2]) / seconds));
            }
        });
        out.sort(Comparator.comparingDouble(Results.ThreadUse::cpuMsPerSecond).reversed());
        return out;
    }

    /** The redis-server processes, when Tollgate's rate limit is in Redis. */
    static List<Long> redisPids(Contender c) {
        if (!(c instanceof TollgateProcess t) || t.features().stream().noneMatch(f -> f.startsWith("redis-rate-limit"))) {
            return List.of();
        }
        return ProcStats.withCommandLine(cmd -> cmd.startsWith("redis-server"));
    }

    /** PostgreSQL backends whose process title names Tollgate's database. */
    static List<Long> databasePids(Contender c) {
        if (!(c instanceof TollgateProcess t)) {
            return List.of();
        }
        String db = " " + t.database() + " ";
        return ProcStats.withCommandLine(cmd -> cmd.startsWith("postgres:") && cmd.contains(db));
    }
}
