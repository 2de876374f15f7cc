package io.tollgate.bench.load;

import org.HdrHistogram.Histogram;

import java.util.concurrent.TimeUnit;

/**
 * What one measured phase saw, in microseconds. Each event loop fills its own instance (no
 * sharing on the hot path); the driver merges them at the end of the phase.
 */
public final class PhaseStats {

    /** Ten minutes: anything longer is clamped, and counted as a timeout anyway. */
    public static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(10);

    /** From the intended send time: coordinated omission corrected, as wrk2 does. */
    public final Histogram latency = histogram();
    /** From the moment the request was actually written. */
    public final Histogram uncorrected = histogram();
    /** First response byte, from the intended send time. */
    public final Histogram ttfb = histogram();
    /** First response byte, from the moment the request was actually written. */
    public final Histogram ttfbUncorrected = histogram();
    /** Between two consecutive {@code data:} events of a stream. */
    public final Histogram gaps = histogram();

    public long sent;
    public long ok;
    public long non2xx;
    public long errors;
    public long timeouts;
    /** Intended sends the schedule never reached because answers came back too late. */
    public long unsent;
    public long events;
    public String lastError;

    public static Histogram histogram() {
        return new Histogram(MAX_MICROS, 3);
    }

    static void record(Histogram h, long nanos) {
        h.recordValue(Math.min(MAX_MICROS, Math.max(0, nanos / 1_000)));
    }

    public void add(PhaseStats o) {
        latency.add(o.latency);
        uncorrected.add(o.uncorrected);
        ttfb.add(o.ttfb);
        ttfbUncorrected.add(o.ttfbUncorrected);
        gaps.add(o.gaps);
        sent += o.sent;
        ok += o.ok;
        non2xx += o.non2xx;
        errors += o.errors;
        timeouts += o.timeouts;
        unsent += o.unsent;
        events += o.events;
        if (o.lastError != null) {
            lastError = o.lastError;
        }
    }

    /** Requests that did not end in a 2xx. */
    public long failures() {
        return non2xx + errors + timeouts;
    }
}
