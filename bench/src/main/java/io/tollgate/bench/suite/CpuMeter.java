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
 */
final class CpuMeter {

    private final Contender contender;
    private final Map<Long, Long> before = new HashMap<>();
    private final Map<Long, Long> dbBefore = new HashMap<>();
    private final Map<Long, Long> redisBefore = new HashMap<>();
    private final Map<String, long[]> threadsBefore = new HashMap<>();
    private final long startNanos = System.nanoTime();

    private CpuMeter(Contender contender) {
        this.contender = contender;
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
    }

    static CpuMeter start(Contender c) {
        return new CpuMeter(c);
    }

    /** Per-request CPU since {@link #start}, over {@code requests} answered requests. */
    Results.Cpu stop(long requests) {
        if (requests <= 0 || contender.proxyPids().isEmpty()) {
            return Results.Cpu.NONE;
        }
        long proxy = 0;
        Map<String, long[]> threadsAfter = new HashMap<>();
        for (long pid : contender.proxyPids()) {
            proxy += ProcStats.cpuNanos(pid) - before.getOrDefault(pid, 0L);
            ProcStats.addThreads(pid, threadsAfter);
        }
        return new Results.Cpu(proxy / 1000.0 / requests, spent(databasePids(contender), dbBefore, requests),
                spent(redisBefore.keySet(), redisBefore, requests),
                threadUse(threadsBefore, threadsAfter, System.nanoTime() - startNanos));
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

    /** µs per request the processes spent since their reading in {@code before}; NaN for none. */
    private static double spent(Iterable<Long> pids, Map<Long, Long> before, long requests) {
        long n = 0;
        boolean any = false;
        for (long pid : pids) {
            n += ProcStats.cpuNanos(pid) - before.getOrDefault(pid, 0L);
            any = true;
        }
        return any ? n / 1000.0 / requests : Double.NaN;
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
