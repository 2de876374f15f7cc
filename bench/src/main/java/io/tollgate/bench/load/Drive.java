package io.tollgate.bench.load;

import io.netty.channel.EventLoop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Drives requests over a set of {@link LoadConnection}s for a fixed time.
 *
 * <p>Open loop ({@link #constantRate}) is wrk2's model: connection {@code k} of {@code n} owns
 * the intended send times {@code start + (k + i·n) / rate}; a request goes out at its intended
 * time, or at once when the previous answer came back later than that, and its latency is counted
 * from the intended time, so a stall is charged to every request it delayed (coordinated
 * omission corrected). Intended sends the schedule never reached before the end are counted as
 * {@code unsent}. Closed loop ({@link #closedLoop}) sends the next request as soon as the last
 * one is answered: throughput, not latency under a given load.
 */
public final class Drive {

    private Drive() {
    }

    /**
     * @param chunks for streams: inter-event gaps are recorded between the first {@code chunks}
     *               events of each answer only (0: all of them)
     */
    public static RunResult constantRate(List<LoadConnection> conns, Request request, double rate, Duration duration,
                                         Duration grace, int chunks) {
        return run(conns, request, rate, duration, grace, chunks);
    }

    public static RunResult closedLoop(List<LoadConnection> conns, Request request, Duration duration, Duration grace) {
        return run(conns, request, 0, duration, grace, 0);
    }

    private static RunResult run(List<LoadConnection> conns, Request request, double rate, Duration duration,
                                 Duration grace, int chunks) {
        GcWatch gcBefore = new GcWatch();
        Map<EventLoop, PhaseStats> perLoop = new IdentityHashMap<>();
        for (LoadConnection c : conns) {
            perLoop.computeIfAbsent(c.loop(), l -> new PhaseStats());
        }
        CountDownLatch done = new CountDownLatch(conns.size());
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        long end = start + duration.toNanos();
        double period = rate > 0 ? 1e9 / rate : 0;
        List<Slot> slots = new ArrayList<>(conns.size());
        for (int k = 0; k < conns.size(); k++) {
            LoadConnection c = conns.get(k);
            Slot s = new Slot(c, perLoop.get(c.loop()), request, k, conns.size(), start, end, period, chunks, done);
            slots.add(s);
            long delay = rate > 0 ? s.intendedAt(0) - System.nanoTime() : start - System.nanoTime();
            c.loop().schedule(s::fire, Math.max(0, delay), TimeUnit.NANOSECONDS);
        }
        long deadline = end + grace.toNanos();
        try {
            done.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            for (Slot s : slots) {
                s.conn.loop().submit(s::expire).get();
            }
            PhaseStats total = new PhaseStats();
            for (Map.Entry<EventLoop, PhaseStats> e : perLoop.entrySet()) {
                e.getKey().submit(() -> total.add(e.getValue())).get();
            }
            long measuredEnd = Math.min(System.nanoTime(), end);
            GcWatch gcAfter = new GcWatch();
            return new RunResult(rate, (measuredEnd - start) / 1e9, total, request.bodyBytes(),
                    gcAfter.countSince(gcBefore), gcAfter.millisSince(gcBefore));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** One connection's share of the schedule; lives on the connection's loop. */
    private static final class Slot implements Exchange {
        final LoadConnection conn;
        final PhaseStats st;
        final Request request;
        final int k;
        final int n;
        final long start;
        final long end;
        final double period;
        final int chunks;
        final CountDownLatch done;

        long index;          // requests sent so far on this connection
        long intended;
        long sentAt;
        long firstByte;
        long lastEvent;
        int streamEvents;
        boolean inFlight;
        boolean finished;
        ScheduledFuture<?> timer;

        Slot(LoadConnection conn, PhaseStats st, Request request, int k, int n, long start, long end, double period,
             int chunks, CountDownLatch done) {
            this.conn = conn;
            this.st = st;
            this.request = request;
            this.k = k;
            this.n = n;
            this.start = start;
            this.end = end;
            this.period = period;
            this.chunks = chunks;
            this.done = done;
        }

        boolean openLoop() {
            return period > 0;
        }

        long intendedAt(long i) {
            return start + (long) ((k + (double) i * n) * period);
        }

        /** How many intended sends of this connection fall before the end. */
        long scheduled() {
            double slots = ((end - start) / period - k) / n;
            return Math.max(0, (long) Math.ceil(slots));
        }

        void fire() {
            timer = null;
            if (finished) {
                return;
            }
            long now = System.nanoTime();
            // A send that fell due before the end still goes out, however late its timer fired.
            if (openLoop() ? intendedAt(index) >= end : now >= end) {
                finish();
                return;
            }
            intended = openLoop() ? intendedAt(index) : now;
            index++;
            sentAt = now;
            firstByte = -1;
            lastEvent = -1;
            streamEvents = 0;
            inFlight = true;
            st.sent++;
            conn.send(request, this);
        }

        @Override
        public void onFirstByte(long nanos) {
            if (inFlight && firstByte < 0) {
                firstByte = nanos;
                PhaseStats.record(st.ttfb, nanos - intended);
                PhaseStats.record(st.ttfbUncorrected, nanos - sentAt);
            }
        }

        @Override
        public void onEvent(long nanos) {
            if (!inFlight) {
                return;
            }
            streamEvents++;
            st.events++;
            if (lastEvent >= 0 && (chunks == 0 || streamEvents <= chunks)) {
                PhaseStats.record(st.gaps, nanos - lastEvent);
            }
            lastEvent = nanos;
        }

        @Override
        public void onComplete(int status, long nanos) {
            if (!inFlight) {
                return;
            }
            inFlight = false;
            PhaseStats.record(st.latency, nanos - intended);
            PhaseStats.record(st.uncorrected, nanos - sentAt);
            if (status >= 200 && status < 300) {
                st.ok++;
            } else {
                st.non2xx++;
                st.lastError = "HTTP " + status;
            }
            next(nanos);
        }

        @Override
        public void onFailed(String why, long nanos) {
            if (!inFlight) {
                return;
            }
            inFlight = false;
            st.errors++;
            st.lastError = why;
            next(nanos);
        }

        private void next(long now) {
            if (finished) {
                return;
            }
            if (!openLoop()) {
                fire();
                return;
            }
            long next = intendedAt(index);
            if (now >= end || next >= end) {
                finish();
            } else if (next <= now) {
                fire();
            } else {
                timer = conn.loop().schedule(this::fire, next - now, TimeUnit.NANOSECONDS);
            }
        }

        private void finish() {
            if (finished) {
                return;
            }
            finished = true;
            if (openLoop()) {
                st.unsent += Math.max(0, scheduled() - index);
            }
            done.countDown();
        }

        /** The grace time is over: what is still in flight timed out, and its connection is dropped. */
        void expire() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
            if (inFlight) {
                inFlight = false;
                st.timeouts++;
                st.lastError = "no answer within the grace time";
                conn.close();
            }
            finish();
        }
    }
}
