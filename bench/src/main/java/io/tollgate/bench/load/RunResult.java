package io.tollgate.bench.load;

/**
 * A measured phase: what was asked ({@code targetRate}, 0 when closed-loop), what happened,
 * and the load generator's own garbage collection meanwhile (its pauses inflate every latency).
 */
public record RunResult(double targetRate, double seconds, PhaseStats stats, long bodyBytesPerRequest,
                        long generatorGcCount, long generatorGcMillis) {

    /**
     * Two slices of one phase as one: their requests and latencies together, over their summed
     * time (the rates are the same, and so are the requests).
     */
    public RunResult plus(RunResult o) {
        PhaseStats sum = new PhaseStats();
        sum.add(stats);
        sum.add(o.stats);
        return new RunResult(targetRate, seconds + o.seconds, sum, bodyBytesPerRequest,
                generatorGcCount + o.generatorGcCount, generatorGcMillis + o.generatorGcMillis);
    }

    /** Answered 2xx per second. */
    public double achievedRate() {
        return seconds <= 0 ? 0 : stats.ok / seconds;
    }

    /** Request body bytes per second of the 2xx answers. */
    public double bodyBytesPerSecond() {
        return achievedRate() * bodyBytesPerRequest;
    }
}
