package io.tollgate.bench.suite;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time a contender spends over a phase: its proxy processes, and for Tollgate the
 * PostgreSQL backends serving its database (the money path runs there too).
 */
final class CpuMeter {

    private final Contender contender;
    private final Map<Long, Long> before = new HashMap<>();
    private final Map<Long, Long> dbBefore = new HashMap<>();

    private CpuMeter(Contender contender) {
        this.contender = contender;
        for (long pid : contender.proxyPids()) {
            before.put(pid, ProcStats.cpuNanos(pid));
        }
        for (long pid : databasePids(contender)) {
            dbBefore.put(pid, ProcStats.cpuNanos(pid));
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
        for (long pid : contender.proxyPids()) {
            proxy += ProcStats.cpuNanos(pid) - before.getOrDefault(pid, 0L);
        }
        double db = Double.NaN;
        List<Long> dbPids = databasePids(contender);
        if (!dbPids.isEmpty()) {
            long n = 0;
            for (long pid : dbPids) {
                n += ProcStats.cpuNanos(pid) - dbBefore.getOrDefault(pid, 0L);
            }
            db = n / 1000.0 / requests;
        }
        return new Results.Cpu(proxy / 1000.0 / requests, db);
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
