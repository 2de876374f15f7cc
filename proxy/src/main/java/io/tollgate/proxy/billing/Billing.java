package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore;
import io.tollgate.schema.RequestLogEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Reserve before the upstream call, settle after: the proxy's money path, knowing nothing of
 * Netty. Reservations are made in memory against this proxy's {@link CreditLeases}, which grow,
 * renew and give back their slices on a small pool of blocking workers; outcomes (spent cost plus
 * request-log row) queue for one writer thread.
 *
 * <p>Writing is write-ahead, on two threads: one appends what queued to the {@link Journal} (one
 * write per batch, an fsync at most every {@link #SYNC_NANOS}, never waiting on the database), the
 * other applies the journal's oldest records to the database in batches and acknowledges them,
 * retrying with backoff while it is away. So an outcome, once journaled, survives a database
 * outage and a crash of the proxy alike, and once synced a crash of the machine too. Without a journal directory the same threads keep them in
 * memory.
 */
public final class Billing implements AutoCloseable {

    /**
     * The priority of the threads that only catch up (journal, settlement, lease upkeep): below the
     * event loops' (Netty's are at the maximum), so on a proxy with few cores they do not take the
     * CPU from under a loop mid-request. The JVM maps it to a nice value only with
     * {@code -XX:ThreadPriorityPolicy=1}, as ./tollgate runs it; otherwise it is ignored.
     */
    public static final int BACKGROUND_PRIORITY = Thread.MIN_PRIORITY + 1;

    private static final Logger log = LoggerFactory.getLogger(Billing.class);
    private static final int MAX_BATCH = 512;
    /**
     * How long the settling thread gathers outcomes after a commit before the next one (unless
     * {@link #MAX_BATCH} gather first). A batch costs PostgreSQL some 0.6 ms of CPU besides its
     * rows' 25-30 µs each (measured), so at 1-2k requests a second the 20 ms this was spent a
     * third of the database's CPU on batches of 20-40; at 100 ms it is a tenth or less. What waits
     * is already in the journal, and a settlement 100 ms later is as invisible to clients.
     */
    static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long IDLE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * The least time between two group commits of the journal: what finishes meanwhile waits for
     * the next one, so a busy proxy pays one fsync per this, not one per handful of requests.
     * Woken by every request and fsyncing 600 times a second, the journal thread had taken a tenth
     * of the proxy's core in the bench (an fdatasync here: 65 µs of CPU, 160 µs of waiting).
     */
    static final long GROUP_COMMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /**
     * The most time between a group commit's write and the {@code fdatasync} that makes it survive a
     * crash of the machine (a crash of the proxy it survives once written). The sync, not the write,
     * was most of the journal thread's CPU: at one per commit, 62% of its appending, and 200 a
     * second at any rate above 200 requests a second.
     */
    static final long SYNC_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final BillingStore store;
    private final ExecutorService reservers;
    private final CreditLeases leases;
    private final java.util.concurrent.ScheduledExecutorService maintenance;
    /** Finished outcomes for the journaler; adding one signals nobody unless it sleeps (see {@link #finish}). */
    private final Queue<BillingStore.Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private volatile boolean journalerIdle;
    private final OutcomeLog journal;
    private final AtomicLong inFlight = new AtomicLong();
    private final Duration drainTimeout;
    private final Thread journaler;
    /** The journaler's own: whether it wrote since its last sync, and when that was. */
    private boolean unsynced;
    private long lastSync = System.nanoTime();
    private final Thread writer;
    private final Object applySignal = new Object();
    /**
     * The settling thread waits with nothing to apply: a commit must wake it. While it gathers a
     * batch it wakes by itself when the gathering ends, so the 200 commits a second of a busy
     * proxy would only wake it to go back to sleep (a quarter of its wake-ups in the bench).
     */
    private volatile boolean writerIdle;
    private volatile boolean running = true;
    private volatile long stopDeadline;

    public Billing(BillingStore store, int reserveThreads) {
        this(store, reserveThreads, BillingConfig.defaults());
    }

    public Billing(BillingStore store, int reserveThreads, BillingConfig config) {
        this(store, reserveThreads, "px_" + io.tollgate.schema.Ids.random(12), config);
    }

    /**
     * @param holder     this proxy's name on its credit leases, unique per process
     * @param leaseTtl   how long a lease lives without renewal (renewed every third of it)
     * @param idleReturn a key's lease unused this long is given back
     */
    public Billing(BillingStore store, int reserveThreads, String holder, Duration leaseTtl, Duration idleReturn) {
        this(store, reserveThreads, holder, BillingConfig.defaults().withCreditLeaseTtl(leaseTtl)
                .withLeaseIdleReturn(idleReturn));
    }

    /**
     * Opens the journal, if one is configured, and starts the writer, which first applies what an
     * earlier run left in it.
     *
     * @param holder this proxy's name on its credit leases, unique per process
     * @throws UncheckedIOException when the journal directory cannot be used
     */
    public Billing(BillingStore store, int reserveThreads, String holder, BillingConfig config) {
        this.store = store;
        this.drainTimeout = config.drainTimeout();
        try {
            this.journal = config.journalDir() == null ? new OutcomeLog.InMemory() : Journal.open(config.journalDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the billing journal in " + config.journalDir(), e);
        }
        inFlight.set(journal.unapplied());
        AtomicInteger n = new AtomicInteger();
        this.reservers = Executors.newFixedThreadPool(reserveThreads, r -> {
            Thread t = new Thread(r, "tollgate-credit-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.leases = new CreditLeases(store, holder, reservers, config.creditLeaseTtl(), config.leaseIdleReturn(),
                config.outageAllowance());
        this.maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tollgate-credit-leases");
            t.setDaemon(true);
            t.setPriority(BACKGROUND_PRIORITY);
            return t;
        });
        long every = Math.max(1, config.creditLeaseTtl().toMillis() / 3);
        this.maintenance.scheduleWithFixedDelay(leases::maintain, every, every, TimeUnit.MILLISECONDS);
        this.journaler = new Thread(this::journalLoop, "tollgate-journal");
        this.journaler.setDaemon(true);
        this.journaler.setPriority(BACKGROUND_PRIORITY);
        this.writer = new Thread(this::applyLoop, "tollgate-settle");
        this.writer.setDaemon(true);
        this.writer.setPriority(BACKGROUND_PRIORITY);
        this.journaler.start();
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
     * Hands a reservation made with {@link #reserve} over to the database, where something that
     * outlives this process holds it (a media task); see {@link CreditLeases#handOver}. When
     * {@code moved} accepts the result the reservation is gone from here and must not be
     * {@link #finish finished} with the request; otherwise it still must.
     */
    public <T> CompletableFuture<T> handOver(String keyId, BigDecimal amount, CreditLeases.HandOver<T> work,
                                             java.util.function.Predicate<T> moved) {
        return leases.handOver(keyId, amount, work, moved);
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
        if (journalerIdle) {                                 // otherwise it comes by within GROUP_COMMIT_NANOS
            journalerIdle = false;
            LockSupport.unpark(journaler);
        }
    }

    /** Gives back every lease not in use now (tests use it to see the balance settle to rest). */
    public void returnLeases() {
        leases.returnAll();
    }

    /** The journal on disk, null when outcomes wait in memory (tests). */
    Journal journalOnDisk() {
        return journal instanceof Journal j ? j : null;
    }

    /** Outcomes recorded (or found in the journal at start) but not yet in the database. */
    public int pending() {
        return (int) Math.min(Integer.MAX_VALUE, inFlight.get());
    }

    /**
     * The journaling thread: writes every finished outcome to the journal, one batch (one write) at
     * a time, at most one batch per {@link #GROUP_COMMIT_NANOS}, and syncs what it wrote within
     * {@link #SYNC_NANOS}. It never waits on the database, so outcomes keep reaching the disk while
     * it is away. With nothing to do and nothing to sync it parks, marked idle, and the next
     * {@link #finish} wakes it.
     */
    private void journalLoop() {
        List<BillingStore.Outcome> fresh = new ArrayList<>(MAX_BATCH);
        Backoff retry = new Backoff();
        long lastCommit = System.nanoTime() - GROUP_COMMIT_NANOS;
        while (!Thread.currentThread().isInterrupted()) {  // parkNanos would return at once from now on
            try {
                boolean stopping = !running;
                if (fresh.isEmpty()) {
                    long wait = GROUP_COMMIT_NANOS - (System.nanoTime() - lastCommit);
                    if (wait > 0 && !stopping) {
                        LockSupport.parkNanos(this, wait);    // gathering the next group
                        continue;
                    }
                    if (!drain(fresh)) {
                        long syncIn = unsynced ? SYNC_NANOS - (System.nanoTime() - lastSync) : IDLE_POLL_NANOS;
                        if (unsynced && (syncIn <= 0 || stopping)) {
                            sync();
                            continue;
                        }
                        if (stopping) {
                            return;
                        }
                        journalerIdle = true;
                        if (!drain(fresh)) {                  // one may have come just before the mark
                            LockSupport.parkNanos(this, Math.min(syncIn, IDLE_POLL_NANOS));
                            journalerIdle = false;
                            continue;
                        }
                        journalerIdle = false;
                    }
                }
                long now = System.nanoTime();
                if (!retry.due(now)) {
                    TimeUnit.NANOSECONDS.sleep(Math.min(retry.at - now, IDLE_POLL_NANOS));
                } else if (journal(fresh)) {
                    lastCommit = now;
                    fresh.clear();
                    retry.succeeded();
                    unsynced = true;
                    if (now - lastSync >= SYNC_NANOS) {
                        sync();
                    }
                    if (writerIdle || journal.unapplied() >= MAX_BATCH) {   // else it comes by when its gathering ends
                        synchronized (applySignal) {
                            applySignal.notifyAll();
                        }
                    }
                } else {
                    retry.failed(System.nanoTime());
                }
                if (stopping && System.nanoTime() - stopDeadline > 0) {
                    log.error("stopping with {} outcomes neither journaled nor in the database: lost", fresh.size() + outcomes.size());
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.error("the outcome journaler failed; going on", e);
            }
        }
    }

    /**
     * Syncs the journal. A failed sync is logged, not retried: the outcomes it covered are written
     * (a crash of the proxy does not lose them) and the journal goes on in a new segment.
     */
    private void sync() {
        try {
            journal.sync();
        } catch (IOException | RuntimeException e) {
            log.error("syncing the journal failed: outcomes written since the last sync survive a crash of the proxy, "
                    + "not necessarily one of the machine: {}", e.toString());
        }
        unsynced = false;
        lastSync = System.nanoTime();
    }

    /** Moves up to a batch of queued outcomes into {@code into}; false if none was queued. */
    private boolean drain(List<BillingStore.Outcome> into) {
        BillingStore.Outcome o;
        while (into.size() < MAX_BATCH && (o = outcomes.poll()) != null) {
            into.add(o);
        }
        return !into.isEmpty();
    }

    /**
     * Makes {@code fresh} durable in the journal. Should the journal fail (disk full, I/O error),
     * the database is the other durable place: the batch goes there directly. False if both fail.
     */
    private boolean journal(List<BillingStore.Outcome> fresh) {
        try {
            journal.append(fresh);
            return true;
        } catch (IOException | RuntimeException e) {
            log.error("appending {} outcomes to the journal failed; writing them to the database directly: {}",
                    fresh.size(), e.toString());
        }
        return applied(fresh);
    }

    /**
     * The settling thread: applies the journal's oldest outcomes to the database in batches,
     * acknowledging each once it is committed, and retries with backoff while the database is away.
     */
    private void applyLoop() {
        Backoff retry = new Backoff();
        long lastApplied = System.nanoTime() - LINGER_NANOS;
        boolean stopSeen = false;
        boolean failedSinceStop = false;
        while (true) {
            try {
                if (!running && !stopSeen) {
                    stopSeen = true;
                    retry.at = System.nanoTime();        // one more try at once
                }
                boolean journalerDone = stopSeen && !journaler.isAlive();
                long unapplied = journal.unapplied();
                if (journalerDone) {
                    if (unapplied == 0) {
                        return;
                    }
                    if (journal.durable() && failedSinceStop) {
                        log.warn("stopping with {} outcomes in the journal; the next start applies them", unapplied);
                        return;
                    }
                    if (System.nanoTime() - stopDeadline > 0) {
                        log.error("stopping with {} outcomes not in the database and lost: no journal is configured", unapplied);
                        return;
                    }
                }
                long now = System.nanoTime();
                // Gather a fuller batch for a moment after the last commit: every commit waits for
                // the WAL to reach disk, and a settlement a few ms later is invisible to clients.
                boolean gathering = !stopSeen && unapplied > 0 && unapplied < MAX_BATCH
                        && now - lastApplied < LINGER_NANOS;
                if (unapplied == 0 || gathering || !retry.due(now)) {
                    long wait = unapplied == 0 ? IDLE_POLL_NANOS
                            : gathering ? LINGER_NANOS - (now - lastApplied)
                            : Math.min(retry.at - now, IDLE_POLL_NANOS);
                    synchronized (applySignal) {
                        writerIdle = unapplied == 0;
                        if (journal.unapplied() == unapplied) {
                            TimeUnit.NANOSECONDS.timedWait(applySignal, wait);
                        }
                        writerIdle = false;
                    }
                    continue;
                }
                if (applyOldest()) {
                    lastApplied = System.nanoTime();
                    retry.succeeded();
                } else {
                    retry.failed(System.nanoTime());
                    failedSinceStop |= stopSeen;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.error("the outcome writer failed; going on", e);
            }
        }
    }

    /** Applies the journal's oldest batch; false when the database did not take it. */
    private boolean applyOldest() {
        List<BillingStore.Outcome> batch;
        try {
            batch = journal.peek(MAX_BATCH);
        } catch (IOException e) {
            log.error("reading the journal failed: {}", e.toString());
            return false;
        }
        if (batch.isEmpty() || !applied(batch)) {
            return batch.isEmpty();
        }
        try {
            journal.acknowledge();
        } catch (IOException e) {
            // Applied all the same; a segment left behind is applied again at start, a no-op.
            log.warn("tidying the journal failed: {}", e.toString());
        }
        return true;
    }

    /** One transaction; settlements and log rows are idempotent by request id, so a retry is safe. */
    private boolean applied(List<BillingStore.Outcome> batch) {
        try {
            store.apply(batch);
        } catch (SQLException | RuntimeException e) {
            leases.databaseFailed();
            log.warn("settling {} outcomes failed, retrying: {}", batch.size(), e.toString());
            return false;
        }
        leases.databaseAnswered();
        for (BillingStore.Outcome o : batch) {
            // Only this process's own outcomes are counted in its slices; a replayed one is another holder's.
            if (o.spends() && leases.holder().equals(o.holder())) {
                leases.written(o.log().keyId(), o.cost());
            }
        }
        inFlight.addAndGet(-batch.size());
        return true;
    }

    /** Exponential backoff between retries, from 50 ms up to 5 s. */
    private static final class Backoff {
        long at = System.nanoTime();
        long step = MIN_BACKOFF_NANOS;

        boolean due(long now) {
            return now - at >= 0;
        }

        void now(long now) {
            at = now;
        }

        void failed(long now) {
            at = now + step;
            step = Math.min(step * 2, MAX_BACKOFF_NANOS);
        }

        void succeeded() {
            step = MIN_BACKOFF_NANOS;
        }
    }

    /**
     * Writes what is queued: to the journal, then to the database as long as it answers (at most
     * the drain timeout); then gives this proxy's leases back and closes the journal.
     */
    @Override
    public void close() {
        maintenance.shutdownNow();
        stopDeadline = System.nanoTime() + drainTimeout.toNanos();
        running = false;
        LockSupport.unpark(journaler);
        try {
            journaler.join(drainTimeout.toMillis() + 1_000);
            writer.join(drainTimeout.toMillis() + 1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (journaler.isAlive() || writer.isAlive()) {
            log.error("the outcome writer did not stop; {} outcomes may not be in the database", pending());
        } else {
            journal.close();
        }
        if (!leases.databaseAway()) {
            // With the database away each give-back would wait out the connection timeout; the
            // slices expire and are swept anyway.
            leases.returnAll();
        }
        reservers.shutdownNow();
    }

    /** The database could not be asked; the request is refused with 503 and costs nothing. */
    public static final class BillingUnavailableException extends RuntimeException {
        BillingUnavailableException(Throwable cause) {
            super(cause);
        }
    }
}
