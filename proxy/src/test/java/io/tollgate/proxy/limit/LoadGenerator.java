package io.tollgate.proxy.limit;

import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps {@code inFlight} acquires outstanding against a limiter, as a busy proxy would, and
 * records how long each one took to complete and what it answered.
 */
final class LoadGenerator implements AutoCloseable {

    private final RateLimiter limiter;
    private final Semaphore slots;
    private final Thread thread;
    private final String keyPrefix = "load" + UUID.randomUUID().toString().replace("-", "");
    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicInteger allowed = new AtomicInteger();
    private final AtomicInteger unavailable = new AtomicInteger();
    private final AtomicLong maxNanos = new AtomicLong();
    private final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private volatile boolean running = true;

    LoadGenerator(RateLimiter limiter, int inFlight) {
        this.limiter = limiter;
        this.slots = new Semaphore(inFlight);
        this.thread = new Thread(this::run, "limiter-load");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        int i = 0;
        while (running) {
            try {
                if (!slots.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
            } catch (InterruptedException e) {
                return;
            }
            long start = System.nanoTime();
            String key = keyPrefix + (i++ % 16);
            try {
                limiter.acquire(key, LimitClass.GENERAL, 1_000_000).whenComplete((d, err) -> {
                    long took = System.nanoTime() - start;
                    maxNanos.accumulateAndGet(took, Math::max);
                    if (err != null) {
                        errors.add(err);
                    } else if (d.unavailable()) {
                        unavailable.incrementAndGet();
                    } else if (d.allowed()) {
                        allowed.incrementAndGet();
                    }
                    completed.incrementAndGet();
                    slots.release();
                });
            } catch (RuntimeException e) {
                errors.add(e);
                slots.release();
            }
        }
    }

    int completed() {
        return completed.get();
    }

    int allowed() {
        return allowed.get();
    }

    int unavailable() {
        return unavailable.get();
    }

    long maxMillis() {
        return TimeUnit.NANOSECONDS.toMillis(maxNanos.get());
    }

    Queue<Throwable> errors() {
        return errors;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5_000);
    }
}
