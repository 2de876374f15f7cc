package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reserve before the upstream call, settle after: the proxy's money path, knowing nothing of
 * Netty. Reservations run on a small pool of blocking workers (they answer a waiting request);
 * outcomes (settlement plus request-log row) queue for one writer that applies them in batches,
 * retrying until the database takes them.
 */
public final class Billing implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Billing.class);
    private static final int MAX_BATCH = 512;

    private final BillingStore store;
    private final ExecutorService reservers;
    private final BlockingQueue<BillingStore.Outcome> outcomes = new LinkedBlockingQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Thread writer;
    private volatile boolean running = true;

    public Billing(BillingStore store, int reserveThreads) {
        this.store = store;
        AtomicInteger n = new AtomicInteger();
        this.reservers = Executors.newFixedThreadPool(reserveThreads, r -> {
            Thread t = new Thread(r, "tollgate-reserve-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.writer = new Thread(this::writeLoop, "tollgate-settle");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Holds {@code amount} against the account and the key; completes off the caller's thread. */
    public CompletableFuture<BillingStore.Reserve> reserve(String requestId, String accountId, String keyId,
                                                           BigDecimal amount) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return store.reserve(requestId, accountId, keyId, amount);
            } catch (java.sql.SQLException e) {
                throw new BillingUnavailableException(e);
            }
        }, reservers);
    }

    /** Queues the end of a request: settle (or release) its reservation and log it, exactly once. */
    public void record(BillingStore.Outcome outcome) {
        inFlight.incrementAndGet();
        outcomes.add(outcome);
    }

    /** Outcomes recorded but not yet in the database. */
    public int pending() {
        return inFlight.get();
    }

    private void writeLoop() {
        List<BillingStore.Outcome> batch = new ArrayList<>(MAX_BATCH);
        long backoffMs = 50;
        while (running || !outcomes.isEmpty() || !batch.isEmpty()) {
            try {
                if (batch.isEmpty()) {
                    BillingStore.Outcome first = outcomes.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                    outcomes.drainTo(batch, MAX_BATCH - 1);
                }
                store.apply(batch);
                inFlight.addAndGet(-batch.size());
                batch.clear();
                backoffMs = 50;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                // The batch stays: settlements are idempotent by request id, so a retry is safe.
                log.warn("settling {} outcomes failed, retrying in {} ms: {}", batch.size(), backoffMs, e.toString());
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoffMs = Math.min(backoffMs * 2, 5_000);
            }
        }
    }

    /** Stops taking reservations and writes what is queued (bounded wait). */
    @Override
    public void close() {
        reservers.shutdownNow();
        running = false;
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The database could not be asked; the request is refused with 503 and costs nothing. */
    public static final class BillingUnavailableException extends RuntimeException {
        BillingUnavailableException(Throwable cause) {
            super(cause);
        }
    }
}
