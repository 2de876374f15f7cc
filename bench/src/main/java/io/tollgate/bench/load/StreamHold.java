package io.tollgate.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many long streams at once, each on a connection of its own, opened at a steady pace: the
 * concurrency scenario holds them while the harness samples the proxy's memory. Counters are
 * read from any thread.
 */
public final class StreamHold implements AutoCloseable {

    private final List<LoadConnection> conns = new ArrayList<>();
    private final AtomicInteger connected = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicLong events = new AtomicLong();
    private volatile String lastError;

    private StreamHold() {
    }

    /** Starts opening {@code streams} streams, {@code perSecond} a second; returns at once. */
    public static StreamHold open(LoadClient client, String host, int port, Request request, int streams,
                                  double perSecond) {
        StreamHold hold = new StreamHold();
        long periodNanos = (long) (1e9 / perSecond);
        for (int i = 0; i < streams; i++) {
            LoadConnection c = client.connection(host, port, i);
            hold.conns.add(c);
            c.loop().schedule(() -> hold.start(c, request), i * periodNanos, TimeUnit.NANOSECONDS);
        }
        return hold;
    }

    private void start(LoadConnection c, Request request) {
        c.connect().addListener(f -> {
            if (!f.isSuccess()) {
                failed.incrementAndGet();
                lastError = "connect failed: " + f.cause();
                return;
            }
            connected.incrementAndGet();
            c.send(request, new Exchange() {
                boolean started;

                @Override
                public void onFirstByte(long nanos) {
                    started = true;
                    active.incrementAndGet();
                }

                @Override
                public void onEvent(long nanos) {
                    events.incrementAndGet();
                }

                @Override
                public void onComplete(int status, long nanos) {
                    end();
                    if (status >= 200 && status < 300) {
                        completed.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                        lastError = "HTTP " + status;
                    }
                    c.close();
                }

                @Override
                public void onFailed(String why, long nanos) {
                    end();
                    failed.incrementAndGet();
                    lastError = why;
                }

                private void end() {
                    if (started) {
                        started = false;
                        active.decrementAndGet();
                    }
                }
            });
        });
    }

    /** Connections established so far. */
    public int connected() {
        return connected.get();
    }

    /** Streams whose answer has started and not ended. */
    public int active() {
        return active.get();
    }

    public int completed() {
        return completed.get();
    }

    public int failed() {
        return failed.get();
    }

    public long events() {
        return events.get();
    }

    public String lastError() {
        return lastError;
    }

    @Override
    public void close() {
        LoadClient.closeAll(conns);
    }
}
