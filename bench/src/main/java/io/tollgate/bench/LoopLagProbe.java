package io.tollgate.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.tollgate.bench.suite.ProcStats;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Tells a loop that was late from why: a task on every event loop of a group runs each
 * {@code period} and, when it runs more than {@code threshold} after its time, reports how late,
 * and how the loop thread's CPU time and run-queue wait ({@code /proc/thread-self/schedstat})
 * moved over that gap. CPU grown by about the gap is a loop busy with something else; wait grown
 * is a loop ready but not given its CPU; neither grown is a loop stopped without running: a
 * collection (the GC log says), the whole machine (every JVM's loop late at the same instant), or
 * a loop asleep while its work was due (docs/performance-history.md, 2026-12-07).
 *
 * <p>Each tick reads the thread's schedstat once (one {@code pread}), a few microseconds a
 * millisecond: a diagnostic for bench runs, off unless asked for.
 */
final class LoopLagProbe implements AutoCloseable {

    /** One late tick: when it was seen, how late, and what the loop thread did over the gap. */
    record Late(Instant at, String thread, Duration late, Duration gap, Duration cpu, Duration runQueueWait) {
        @Override
        public String toString() {
            return String.format("loop-lag %s at %s: late %.1f ms; over the %.1f ms gap CPU +%.1f ms,"
                    + " run-queue wait +%.1f ms", thread, at, ms(late), ms(gap), ms(cpu), ms(runQueueWait));
        }

        private static double ms(Duration d) {
            return d.toNanos() / 1e6;
        }
    }

    /** A tick and where it runs. */
    private record Running(EventExecutor loop, Tick tick, ScheduledFuture<?> schedule) {
    }

    private final List<Running> ticks = new ArrayList<>();

    private LoopLagProbe() {
    }

    /** Starts a tick on every loop of {@code group}; {@code report} is called on the loop that was late. */
    static LoopLagProbe start(EventLoopGroup group, Duration period, Duration threshold, Consumer<Late> report) {
        LoopLagProbe probe = new LoopLagProbe();
        for (EventExecutor loop : group) {
            Tick tick = new Tick(period.toNanos(), threshold.toNanos(), report);
            probe.ticks.add(new Running(loop, tick,
                    loop.scheduleAtFixedRate(tick, period.toNanos(), period.toNanos(), TimeUnit.NANOSECONDS)));
        }
        return probe;
    }

    /** Stops the ticks; a tick's file is closed on its own loop, where it is read. */
    @Override
    public void close() {
        for (Running r : ticks) {
            r.schedule().cancel(false);
            r.loop().execute(r.tick()::close);
        }
    }

    /** Runs on one loop only, so its fields need no guard. */
    private static final class Tick implements Runnable {
        private final long period;
        private final long threshold;
        private final Consumer<Late> report;
        private final byte[] buffer = new byte[128];
        private final long[] stat = new long[3];
        private RandomAccessFile schedstat;
        private long lastRun;
        private long lastCpu;
        private long lastWait;

        Tick(long period, long threshold, Consumer<Late> report) {
            this.period = period;
            this.threshold = threshold;
            this.report = report;
        }

        @Override
        public void run() {
            long now = System.nanoTime();
            readSchedstat();
            if (lastRun != 0) {
                long late = now - lastRun - period;
                if (late > threshold) {
                    report.accept(new Late(Instant.now(), Thread.currentThread().getName(), Duration.ofNanos(late),
                            Duration.ofNanos(now - lastRun), Duration.ofNanos(stat[0] - lastCpu),
                            Duration.ofNanos(stat[1] - lastWait)));
                }
            }
            lastRun = now;
            lastCpu = stat[0];
            lastWait = stat[1];
        }

        void close() {
            try {
                if (schedstat != null) {
                    schedstat.close();
                }
            } catch (IOException ignored) {
                // a /proc file: nothing was written
            }
        }

        /**
         * The calling thread's CPU time and run-queue wait so far into {@link #stat}, in
         * nanoseconds (zeros where there is no /proc). Allocates nothing: it runs every tick on
         * the loop it watches.
         */
        private void readSchedstat() {
            try {
                if (schedstat == null) {
                    schedstat = new RandomAccessFile("/proc/thread-self/schedstat", "r");   // this loop's thread
                }
                schedstat.seek(0);
                if (ProcStats.parseSchedstat(buffer, Math.max(schedstat.read(buffer), 0), stat)) {
                    return;
                }
            } catch (IOException e) {
                // no /proc here: the gaps' CPU and wait read as zero
            }
            stat[0] = 0;
            stat[1] = 0;
        }
    }
}
