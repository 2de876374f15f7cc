package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore;
import io.tollgate.schema.BillingStore.Reserve;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * This proxy's slices of each key's credits. A request reserves against the slice in memory; only
 * when the slice is short does one database call grow it (by at least what the key spent here in
 * the last second, so a busy key asks about once a second), and that call is made in the
 * background while half a second's spending is still left, so nobody waits for it. Settled costs are spent from the slice by the outcome writer; slices
 * idle for a while are given back; all of them are renewed while the database answers, and a
 * slice not renewed within its lifetime is no longer drawn on (another proxy may sweep it).
 *
 * <p>Per key: {@code available = leased − inUse − unwritten}, where {@code leased} is what the
 * database holds for us, {@code inUse} the reservations in flight and {@code unwritten} the costs
 * settled here but not yet spent in the database.
 *
 * <p>While the database is away the slices held are the whole allowance: they are drawn on until
 * two thirds of the lease lifetime after their last renewal (or {@code outageAllowance} after the
 * first failed call, if sooner), then reservations fail and the request is answered 503. A
 * reservation that needs the database within a second of a failed call fails at once instead of
 * waiting for the connection timeout again.
 */
public final class CreditLeases {

    private static final Logger log = LoggerFactory.getLogger(CreditLeases.class);

    /** Lease growth asks for at least this many times the request's reservation. */
    private static final int GROWTH_FACTOR = 16;
    /**
     * When a reservation leaves room for fewer than this many more like it, the slice is grown in
     * the background, so the requests after it find room instead of waiting for the database.
     */
    private static final int REFILL_AHEAD = 8;
    /**
     * A busy key's slice is grown in the background once what is left would last less than this
     * share of a second at the key's last second of spending. Eight reservations alone last 4 ms
     * at 2k requests a second: any growth slower than that (a database busy with a settling
     * batch) kept every request behind it waiting, about once a second, which was most of the
     * proxy's p99 in the bench.
     */
    private static final BigDecimal REFILL_AHEAD_SECONDS = new BigDecimal("0.5");
    /** The window over which a key's spending is measured to size its next growth. */
    private static final long SPEND_WINDOW_NANOS = 1_000_000_000L;
    /** More than any lease holds: shrinking by it gives the whole lease back. */
    private static final BigDecimal WHOLE_LEASE = BigDecimal.TEN.pow(30);
    /** After a failed database call, reservations that need the database fail this long without asking. */
    private static final long RETRY_NANOS = 1_000_000_000L;

    private final BillingStore store;
    private final String holder;
    private final Executor blocking;
    private final int ttlSeconds;
    private final long validityNanos;
    private final long idleNanos;
    private final long allowanceNanos;
    private final Map<String, KeyCredit> keys = new ConcurrentHashMap<>();
    private final Object health = new Object();
    private long downSince;                      // guarded by health; 0: the last call succeeded
    private volatile long lastFailure;           // 0: the last call succeeded

    /** One key's slice; every field is guarded by the object's monitor. */
    private static final class KeyCredit {
        final String keyId;
        final String accountId;
        BigDecimal leased = BigDecimal.ZERO;
        BigDecimal inUse = BigDecimal.ZERO;
        BigDecimal unwritten = BigDecimal.ZERO;
        long validUntil;
        long lastUse = System.nanoTime();
        long grownAt;                            // when a growth last returned the database's total
        long refillRefusedAt;                    // when a background growth was last refused; 0: never
        long spendWindowStart = System.nanoTime();
        BigDecimal spentInWindow = BigDecimal.ZERO;
        BigDecimal spentLastWindow = BigDecimal.ZERO;  // settled in the last whole second, if it was the one before this
        CompletableFuture<Reserve> dbCall;       // one database call per key at a time

        KeyCredit(String keyId, String accountId) {
            this.keyId = keyId;
            this.accountId = accountId;
        }

    }

    public CreditLeases(BillingStore store, String holder, Executor blocking, Duration ttl, Duration idleReturn) {
        this(store, holder, blocking, ttl, idleReturn, BillingConfig.validity(ttl));
    }

    /**
     * @param outageAllowance how long after the first failed database call the slices held may
     *                        still be drawn on; zero: not at all
     */
    public CreditLeases(BillingStore store, String holder, Executor blocking, Duration ttl, Duration idleReturn,
                        Duration outageAllowance) {
        this.store = store;
        this.holder = holder;
        this.blocking = blocking;
        this.ttlSeconds = (int) Math.max(3, ttl.toSeconds());
        // Stop drawing on a slice well before the database could consider it abandoned.
        this.validityNanos = ttl.toNanos() * 2 / 3;
        this.idleNanos = idleReturn.toNanos();
        this.allowanceNanos = outageAllowance.toNanos();
    }

    /** What the key's slice can still hold now; nothing once it is past its validity. */
    private BigDecimal available(KeyCredit k, long now) {
        if (now - k.validUntil > 0) {
            return BigDecimal.ZERO;
        }
        long down = lastFailure == 0 ? 0 : downSince();
        if (down != 0 && now - down >= allowanceNanos) {
            return BigDecimal.ZERO;
        }
        return k.leased.subtract(k.inUse).subtract(k.unwritten);
    }

    private long downSince() {
        synchronized (health) {
            return downSince;
        }
    }

    /** A database call failed (here or in the outcome writer): the outage allowance starts, if it has not. */
    public void databaseFailed() {
        long now = System.nanoTime();
        synchronized (health) {
            if (lastFailure == 0) {
                downSince = now;
            }
            lastFailure = now;
        }
    }

    /** True from a failed database call until one succeeds. */
    public boolean databaseAway() {
        return lastFailure != 0;
    }

    /** A database call succeeded: the outage, if there was one, is over. */
    public void databaseAnswered() {
        if (lastFailure != 0) {
            synchronized (health) {
                lastFailure = 0;
                downSince = 0;
            }
        }
    }

    public String holder() {
        return holder;
    }

    /** Holds {@code amount} of the key's credits for one request. */
    public CompletableFuture<Reserve> reserve(String accountId, String keyId, BigDecimal amount) {
        KeyCredit k = keys.computeIfAbsent(keyId, id -> new KeyCredit(id, accountId));
        CompletableFuture<Reserve> wait;
        synchronized (k) {
            long now = System.nanoTime();
            k.lastUse = now;
            BigDecimal available = available(k, now);
            if (available.compareTo(amount) >= 0) {
                k.inUse = k.inUse.add(amount);
                refillIfLow(k, available.subtract(amount), amount, now);
                return CompletableFuture.completedFuture(Reserve.RESERVED);
            }
            long failed = lastFailure;
            if (failed != 0 && now - failed < RETRY_NANOS) {
                return CompletableFuture.failedFuture(new Billing.BillingUnavailableException(
                        new IllegalStateException("the database failed to answer just now")));
            }
            if (k.dbCall == null) {
                BigDecimal min = amount.subtract(available.max(BigDecimal.ZERO));
                wait = grow(k, min, growthMax(k, amount).max(min));
                return wait.thenCompose(r -> afterGrow(k, accountId, amount, r));
            }
            wait = k.dbCall;
        }
        // Someone else is already asking the database for this key: try again when it answers,
        // or fail with it (each waiter asking again in turn would keep clients waiting a timeout each).
        return wait.handle((r, e) -> e).thenCompose(e -> e == null || !(unwrap(e) instanceof Billing.BillingUnavailableException)
                ? reserve(accountId, keyId, amount) : CompletableFuture.failedFuture(unwrap(e)));
    }

    /**
     * Grows the slice ahead of need when what is left after a reservation of {@code amount} would
     * hold fewer than {@link #REFILL_AHEAD} more, or last less than {@link #REFILL_AHEAD_SECONDS}
     * at the key's recent spending. Nobody waits for it; a reservation that finds the
     * slice short meanwhile waits for this growth, as for any other. Not while the database is
     * failing, nor for a second after the database refused a growth (the balance is running out:
     * the next shortfall asks, and its client gets the answer).
     */
    private void refillIfLow(KeyCredit k, BigDecimal left, BigDecimal amount, long now) {
        BigDecimal mark = amount.multiply(BigDecimal.valueOf(REFILL_AHEAD))
                .max(k.spentLastWindow.multiply(REFILL_AHEAD_SECONDS));
        if (left.compareTo(mark) >= 0 || k.dbCall != null || lastFailure != 0
                || (k.refillRefusedAt != 0 && now - k.refillRefusedAt < RETRY_NANOS)) {
            return;
        }
        grow(k, amount, growthMax(k, amount)).whenComplete((r, e) -> {
            if (r != null && r != Reserve.RESERVED) {
                synchronized (k) {
                    k.refillRefusedAt = System.nanoTime();
                }
            }
        });
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    private CompletableFuture<Reserve> afterGrow(KeyCredit k, String accountId, BigDecimal amount, Reserve grown) {
        synchronized (k) {
            BigDecimal available = available(k, System.nanoTime());
            if (available.compareTo(amount) >= 0) {
                k.inUse = k.inUse.add(amount);
                return CompletableFuture.completedFuture(Reserve.RESERVED);
            }
            if (grown != Reserve.RESERVED) {
                return CompletableFuture.completedFuture(grown);
            }
        }
        // Others waiting on the same growth took it first: grow again; the database says no when
        // there truly is not enough, so this ends.
        return reserve(accountId, k.keyId, amount);
    }

    /**
     * The most one growth asks for: 16 reservations' worth, the slice's size, or what the key
     * settled here in the last second, whichever is most. The slice's size alone does not make a
     * busy key's slice grow: what is spent leaves it, so under steady load each growth asked for
     * about 16 reservations again (15 database calls a second for one key at 4.5k req/s, measured);
     * a second's spending makes that about one.
     */
    private static BigDecimal growthMax(KeyCredit k, BigDecimal amount) {
        return amount.multiply(BigDecimal.valueOf(GROWTH_FACTOR)).max(k.leased).max(k.spentLastWindow);
    }

    /**
     * Asks the database to grow the slice, on a blocking thread, and makes that the key's one
     * database call until it answers. Called holding {@code k}'s monitor, so the answer, which
     * clears the call under the same monitor, cannot come before the call is set.
     */
    private CompletableFuture<Reserve> grow(KeyCredit k, BigDecimal min, BigDecimal max) {
        CompletableFuture<Reserve> call = CompletableFuture.supplyAsync(() -> {
            try {
                BillingStore.Lease lease = store.growLease(holder, k.keyId, k.accountId, min, max, ttlSeconds);
                databaseAnswered();
                synchronized (k) {
                    if (lease.result() == Reserve.RESERVED) {
                        // The database's total is the truth, whatever we believed before.
                        k.leased = lease.total();
                        k.validUntil = System.nanoTime() + validityNanos;
                        k.grownAt = System.nanoTime();
                    }
                    k.dbCall = null;
                }
                return lease.result();
            } catch (SQLException | RuntimeException e) {
                databaseFailed();
                synchronized (k) {
                    k.dbCall = null;
                }
                throw new Billing.BillingUnavailableException(e);
            }
        }, blocking);
        k.dbCall = call;
        return call;
    }

    /** Database work that takes a reservation out of this proxy's lease, given the lease's holder. */
    @FunctionalInterface
    public interface HandOver<T> {
        T run(String holder) throws SQLException;
    }

    /**
     * Hands {@code amount}, reserved here for one request, over to a new owner in the database (a
     * media task, which outlives this process): {@code work} runs on a blocking thread while no
     * other database call for the key is in flight (a growth answering after it would otherwise
     * put the amount back into our count), and takes the amount out of the lease in its
     * transaction. When {@code moved} says it did, the amount leaves this slice here too: no
     * longer in use, no longer leased. Otherwise it is still held, to be {@link #settle settled}
     * as usual. Fails with {@link Billing.BillingUnavailableException} when the database could not
     * be asked.
     */
    public <T> CompletableFuture<T> handOver(String keyId, BigDecimal amount, HandOver<T> work,
                                             java.util.function.Predicate<T> moved) {
        KeyCredit k = keys.get(keyId);
        if (k == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no reservation of " + keyId + " to hand over"));
        }
        CompletableFuture<Reserve> mine = new CompletableFuture<>();
        CompletableFuture<Reserve> busy;
        synchronized (k) {
            busy = k.dbCall;
            if (busy == null) {
                k.dbCall = mine;
            }
        }
        if (busy != null) {
            return busy.handle((r, e) -> null).thenCompose(x -> handOver(keyId, amount, work, moved));
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                T result = work.run(holder);
                databaseAnswered();
                if (moved.test(result)) {
                    synchronized (k) {
                        k.inUse = k.inUse.subtract(amount);
                        k.leased = k.leased.subtract(amount).max(BigDecimal.ZERO);
                    }
                }
                return result;
            } catch (SQLException | RuntimeException e) {
                databaseFailed();
                throw new Billing.BillingUnavailableException(e);
            } finally {
                synchronized (k) {
                    k.dbCall = null;
                }
                mine.complete(Reserve.RESERVED);
            }
        }, blocking);
    }

    /** The request is over: its reservation goes, its cost waits to be written. */
    public void settle(String keyId, BigDecimal reserved, BigDecimal cost) {
        KeyCredit k = keys.get(keyId);
        if (k == null) {
            return;
        }
        long now = System.nanoTime();
        synchronized (k) {
            k.inUse = k.inUse.subtract(reserved);
            k.unwritten = k.unwritten.add(cost);
            long elapsed = now - k.spendWindowStart;
            if (elapsed >= SPEND_WINDOW_NANOS) {
                k.spentLastWindow = elapsed < 2 * SPEND_WINDOW_NANOS ? k.spentInWindow : BigDecimal.ZERO;
                k.spentInWindow = BigDecimal.ZERO;
                k.spendWindowStart = now;
            }
            k.spentInWindow = k.spentInWindow.add(cost);
        }
    }

    /** What the key settled here in the last whole second (0 if none or not known yet). */
    BigDecimal spentLastSecond(String keyId) {
        KeyCredit k = keys.get(keyId);
        if (k == null) {
            return BigDecimal.ZERO;
        }
        synchronized (k) {
            return k.spentLastWindow;
        }
    }

    /** The writer spent {@code cost} from the lease in the database. */
    public void written(String keyId, BigDecimal cost) {
        KeyCredit k = keys.get(keyId);
        if (k == null) {
            return;
        }
        synchronized (k) {
            k.unwritten = k.unwritten.subtract(cost);
            k.leased = k.leased.subtract(cost).max(BigDecimal.ZERO);
        }
    }

    /**
     * Renews every slice and sweeps abandoned ones of other proxies; then gives back the slices
     * idle for longer than the idle time. Runs on a blocking thread, every third of the lifetime.
     */
    public void maintain() {
        try {
            long asked = System.nanoTime();
            java.util.Set<String> held = store.renewAndSweep(holder, ttlSeconds);
            databaseAnswered();
            long valid = System.nanoTime() + validityNanos;
            for (KeyCredit k : keys.values()) {
                synchronized (k) {
                    if (held.contains(k.keyId)) {
                        k.validUntil = valid;
                    } else if (k.dbCall == null && k.leased.signum() > 0 && k.grownAt - asked < 0) {
                        // (A growth that returned after the renewal began may have made the row it missed.)
                        // Swept while we could not renew it (an outage longer than its lifetime):
                        // it is no longer ours to draw on. A growth tells us the truth again.
                        log.warn("the credit lease of {} is gone from the database; dropping {} held here",
                                k.keyId, k.leased);
                        k.leased = BigDecimal.ZERO;
                    }
                }
            }
        } catch (SQLException | RuntimeException e) {
            databaseFailed();
            log.warn("renewing credit leases failed; they stay usable for two thirds of their lifetime: {}", e.toString());
            return;
        }
        long now = System.nanoTime();
        for (KeyCredit k : keys.values()) {
            if (now - k.lastUse > idleNanos) {
                giveBack(k, true);
            }
        }
    }

    /**
     * Gives every unused slice back, e.g. on shutdown after the writer drained: one call per key
     * this proxy used, even those it counts as empty. Stops at the first
     * failure: with the database away each would wait for the connection timeout, and the slices
     * are swept anyway once they expire.
     */
    public void returnAll() {
        for (KeyCredit k : keys.values()) {
            if (!giveBack(k, false)) {
                return;
            }
        }
    }

    /** False when the database could not be asked. */
    private boolean giveBack(KeyCredit k, boolean onlyIfIdle) {
        CompletableFuture<Reserve> call = new CompletableFuture<>();
        synchronized (k) {
            if (k.dbCall != null || k.inUse.signum() != 0 || k.unwritten.signum() != 0
                    || (onlyIfIdle && (k.leased.signum() == 0 || System.nanoTime() - k.lastUse <= idleNanos))) {
                return true;
            }
            k.leased = BigDecimal.ZERO;
            k.dbCall = call;                         // no growth while the database shrinks it
        }
        try {
            // All of it, not just what we count: a growth's total can already lack a spend whose
            // written() comes after it, leaving our count below the database's. Nothing is in use.
            store.shrinkLease(holder, k.keyId, WHOLE_LEASE);
            return true;
        } catch (SQLException | RuntimeException e) {
            log.warn("giving back the credit lease of {} failed; it will be swept: {}", k.keyId, e.toString());
            return false;
        } finally {
            synchronized (k) {
                k.dbCall = null;
            }
            call.complete(Reserve.RESERVED);
        }
    }
}
