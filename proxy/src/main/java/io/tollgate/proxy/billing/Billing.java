package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore;
import io.tollgate.schema.RequestLogEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.time.Duration;
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
 * Netty. Reservations are made in memory against this proxy's {@link CreditLeases}, which grow,
 * renew and give back their slices on a small pool of blocking workers; outcomes (spent cost plus
 * request-log row) queue for one writer that applies them in batches, retrying until the database
 * takes them.
 */
public final class Billing implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Billing.class);
    private static final int MAX_BATCH = 512;

    private final BillingStore store;
    private final ExecutorService reservers;
    private final CreditLeases leases;
    private final java.util.concurrent.ScheduledExecutorService maintenance;
    private final BlockingQueue<BillingStore.Outcome> outcomes = new LinkedBlockingQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Thread writer;
    private volatile boolean running = true;

    public Billing(BillingStore store, int reserveThreads) {
        this(store, reserveThreads, "px_" + io.tollgate.schema.Ids.random(12), Duration.ofSeconds(60), Duration.ofSeconds(10));
    }

    /**
     * @param holder     this proxy's name on its credit leases, unique per process
     * @param leaseTtl   how long a lease lives without renewal (renewed every third of it)
     * @param idleReturn a key's lease unused this long is given back
     */
    public Billing(BillingStore store, int reserveThreads, String holder, Duration leaseTtl, Duration idleReturn) {
        this.store = store;
        AtomicInteger n = new AtomicInteger();
        this.reservers = Executors.newFixedThreadPool(reserveThreads, r -> {
            Thread t = new Thread(r, "tollgate-credit-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.leases = new CreditLeases(store, holder, reservers, leaseTtl, idleReturn);
        this.maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tollgate-credit-leases");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1, leaseTtl.toMillis() / 3);
        this.maintenance.scheduleWithFixedDelay(leases::maintain, every, every, TimeUnit.MILLISECONDS);
        this.writer = new Thread(this::writeLoop, "tollgate-settle");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /**
     * Holds {@code amount} against the key and its account. Completes at once when this proxy's
     * lease covers it, else after one database call; fails with {@link BillingUnavailableException}
     * when the database cannot be asked.
     */
    public CompletableFuture<BillingStore.Reserve> reserve(String accountId, String keyId, BigDecimal amount) {
        return leases.reserve(accountId, keyId, amount);
    }

    /**
     * The end of a request, exactly once: its reservation ({@code reserved}, null when it held
     * none) is released, {@code cost} is charged, and the request-log row is written.
     */
    public void finish(String keyId, BigDecimal reserved, BigDecimal cost, RequestLogEntry log) {
        if (reserved != null) {
            leases.settle(keyId, reserved, cost);
        }
        inFlight.incrementAndGet();
        outcomes.add(new BillingStore.Outcome(reserved != null ? leases.holder() : null, cost, log));
    }

    /** Gives back every lease not in use now (tests use it to see the balance settle to rest). */
    public void returnLeases() {
        leases.returnAll();
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
                for (BillingStore.Outcome o : batch) {
                    if (o.spends()) {
                        leases.written(o.log().keyId(), o.cost());
                    }
                }
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

    /** Writes what is queued (bounded wait), then gives this proxy's leases back. */
    @Override
    public void close() {
        maintenance.shutdownNow();
        running = false;
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leases.returnAll();
        reservers.shutdownNow();
    }

    /** The database could not be asked; the request is refused with 503 and costs nothing. */
    public static final class BillingUnavailableException extends RuntimeException {
        BillingUnavailableException(Throwable cause) {
            super(cause);
        }
    }
}
