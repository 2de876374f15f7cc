package io.tollgate.bench.suite;

import io.tollgate.bench.load.RunResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Everything one run measured, by scenario and contender; what the report is rendered from. */
public final class Results {

    /**
     * CPU the proxy (and, for Tollgate, its PostgreSQL backends and its Redis) spent per answered
     * request, from the phase's start until its last outcome was in the database.
     */
    public record Cpu(double proxyMicrosPerRequest, double databaseMicrosPerRequest, double redisMicrosPerRequest,
                      List<ThreadUse> threads) {
        public static final Cpu NONE = new Cpu(Double.NaN, Double.NaN, Double.NaN);

        public Cpu(double proxyMicrosPerRequest, double databaseMicrosPerRequest, double redisMicrosPerRequest) {
            this(proxyMicrosPerRequest, databaseMicrosPerRequest, redisMicrosPerRequest, List.of());
        }
    }

    /**
     * What the proxy's threads of one name did over a phase, a second at a time, from
     * {@code /proc/<pid>/task/<tid>/schedstat}: CPU time, time runnable but waiting for a CPU,
     * and time slices (each a wake-up or a preemption).
     */
    public record ThreadUse(String name, double cpuMsPerSecond, double waitMsPerSecond, double slicesPerSecond) {
    }

    /** A constant-rate or streaming run. {@code error} is set when the measurement itself failed. */
    public record Run(RunResult result, Cpu cpu, Contender.Settled settled, String error) {
        public static Run failed(String error) {
            return new Run(null, Cpu.NONE, Contender.Settled.NOTHING, error);
        }
    }

    /**
     * Closed-loop saturation: {@code tool} is wrk, or the Java generator when wrk is missing;
     * {@code settled} is how the contender's settlements caught up after it; {@code cpuBusy} is each
     * CPU's busy share (by CPU number) over the contender's load slices, empty when unknown.
     */
    public record Saturation(String tool, double requestsPerSecond, long requests, double p50Ms, double p99Ms,
                             long errors, Cpu cpu, Contender.Settled settled, String databaseWaits, String error,
                             List<Double> cpuBusy) {
        /** Without the CPUs' busy shares (unknown). */
        public Saturation(String tool, double requestsPerSecond, long requests, double p50Ms, double p99Ms,
                          long errors, Cpu cpu, Contender.Settled settled, String databaseWaits, String error) {
            this(tool, requestsPerSecond, requests, p50Ms, p99Ms, errors, cpu, settled, databaseWaits, error, List.of());
        }

        public static Saturation failed(String error) {
            return new Saturation("", Double.NaN, 0, Double.NaN, Double.NaN, 0, Cpu.NONE, Contender.Settled.NOTHING, null, error);
        }
    }

    /** 512 KB uploads: throughput, the proxy's resident memory before and at its peak, the hold probe. */
    public record Upload(RunResult result, long rssBefore, long peakRss, UploadProbe.Result probe, String error) {
        public static Upload failed(String error) {
            return new Upload(null, 0, 0, null, error);
        }
    }

    /** Many concurrent streams: how many were open at once and what the proxy's memory did. */
    public record Streams(int asked, int connected, int peakActive, int completed, int failed, long rssBefore,
                          long rssPeakSampled, long peakRss, ProcStats.Heap heap, List<double[]> timeline,
                          String lastError, String error) {
        public static Streams failed(int asked, String error) {
            return new Streams(asked, 0, 0, 0, 0, 0, 0, 0, null, List.of(), null, error);
        }

        /** Resident memory per open stream above the idle process, in bytes. */
        public double bytesPerStream() {
            return peakActive == 0 ? Double.NaN : (double) (peakRss - rssBefore) / peakActive;
        }

        /** The peak projected to {@code n} streams, linearly from the measured ones. */
        public double projectedPeak(int n) {
            return peakActive == 0 ? Double.NaN : rssBefore + bytesPerStream() * n;
        }
    }

    public final Map<String, String> machine = new LinkedHashMap<>();
    /** Lines the reader must see: skipped contenders, failures, limits that applied. */
    public final List<String> notes = new ArrayList<>();
    public final List<String> contenders = new ArrayList<>();
    public final Map<Integer, Map<String, Run>> rates = new TreeMap<>();
    public final Map<String, Saturation> saturation = new LinkedHashMap<>();
    /** Each contender's saturation req/s round by round, in the order run (see {@link Settings}). */
    public final Map<String, List<Double>> saturationRounds = new LinkedHashMap<>();
    public final Map<String, Run> sse = new LinkedHashMap<>();
    public final Map<String, Upload> uploads = new LinkedHashMap<>();
    public final Map<String, Streams> streams = new LinkedHashMap<>();
    /** Markdown of the JMH results, or null when JMH did not run. */
    public String jmh;
    public String nginxConf;
    public Settings settings;
    public List<String> scenarios = new ArrayList<>();
    public String command;
    public String startedAt;
    public double minutes;

    public Map<String, Run> rate(int rate) {
        return rates.computeIfAbsent(rate, r -> new LinkedHashMap<>());
    }
}
