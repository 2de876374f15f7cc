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
 * when the slice is short does one database call grow it (the slice roughly doubles each time, so
 * a busy key rarely asks). Settled costs are spent from the slice by the outcome writer; slices
 * idle for a while are given back; all of them are renewed while the database answers, and a
 * slice not renewed within its lifetime is no longer drawn on (another proxy may sweep it).
 *
 * <p>Per key: {@code available = leased − inUse − unwritten}, where {@code leased} is what the
 * database holds for us, {@code inUse} the reservations in flight and {@code unwritten} the costs
 * settled here but not yet spent in the database.
 */
public final class CreditLeases {

    private static final Logger log = LoggerFactory.getLogger(CreditLeases.class);

    /** Lease growth asks for at least this many times the request's reservation. */
    private static final int GROWTH_FACTOR = 16;

    private final BillingStore store;
    private final String holder;
    private final Executor blocking;
    private final int ttlSeconds;
    private final long validityNanos;
    private final long idleNanos;
    private final Map<String, KeyCredit> keys = new ConcurrentHashMap<>();

    /** One key's slice; every field is guarded by the object's monitor. */
    private static final class KeyCredit {
        final String keyId;
        final String accountId;
        BigDecimal leased = BigDecimal.ZERO;
        BigDecimal inUse = BigDecimal.ZERO;
        BigDecimal unwritten = BigDecimal.ZERO;
        long validUntil;
        long lastUse = System.nanoTime();
        CompletableFuture<Reserve> dbCall;       // one database call per key at a time

        KeyCredit(String keyId, String accountId) {
            this.keyId = keyId;
            this.accountId = accountId;
        }

        BigDecimal available(long now) {
            return now - validUntil > 0 ? BigDecimal.ZERO : leased.subtract(inUse).subtract(unwritten);
        }
    }

    public CreditLeases(BillingStore store, String holder, Executor blocking, Duration ttl, Duration idleReturn) {
        this.store = store;
        this.holder = holder;
        this.blocking = blocking;
        this.ttlSeconds = (int) Math.max(3, ttl.toSeconds());
        // Stop drawing on a slice well before the database could consider it abandoned.
        this.validityNanos = ttl.toNanos() * 2 / 3;
        this.idleNanos = idleReturn.toNanos();
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
            BigDecimal available = k.available(now);
            if (available.compareTo(amount) >= 0) {
                k.inUse = k.inUse.add(amount);
                return CompletableFuture.completedFuture(Reserve.RESERVED);
            }
            if (k.dbCall == null) {
                BigDecimal min = amount.subtract(available.max(BigDecimal.ZERO));
                BigDecimal max = amount.multiply(BigDecimal.valueOf(GROWTH_FACTOR)).max(k.leased).max(min);
                k.dbCall = grow(k, min, max);
                wait = k.dbCall;
                return wait.thenCompose(r -> afterGrow(k, accountId, amount, r));
            }
            wait = k.dbCall;
        }
        // Someone else is already asking the database for this key: try again when it answers.
        return wait.handle((r, e) -> null).thenCompose(x -> reserve(accountId, keyId, amount));
    }

    private CompletableFuture<Reserve> afterGrow(KeyCredit k, String accountId, BigDecimal amount, Reserve grown) {
        synchronized (k) {
            BigDecimal available = k.available(System.nanoTime());
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

    private CompletableFuture<Reserve> grow(KeyCredit k, BigDecimal min, BigDecimal max) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                BillingStore.Lease lease = store.growLease(holder, k.keyId, k.accountId, min, max, ttlSeconds);
                synchronized (k) {
                    if (lease.result() == Reserve.RESERVED) {
                        // The database's total is the truth, whatever we believed before.
                        k.leased = lease.total();
                        k.validUntil = System.nanoTime() + validityNanos;
                    }
                    k.dbCall = null;
                }
                return lease.result();
            } catch (SQLException | RuntimeException e) {
                synchronized (k) {
                    k.dbCall = null;
                }
                throw new Billing.BillingUnavailableException(e);
            }
        }, blocking);
    }

    /** The request is over: its reservation goes, its cost waits to be written. */
    public void settle(String keyId, BigDecimal reserved, BigDecimal cost) {
        KeyCredit k = keys.get(keyId);
        if (k == null) {
            return;
        }
        synchronized (k) {
            k.inUse = k.inUse.subtract(reserved);
            k.unwritten = k.unwritten.add(cost);
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
            store.renewAndSweep(holder, ttlSeconds);
            long valid = System.nanoTime() + validityNanos;
            for (KeyCredit k : keys.values()) {
                synchronized (k) {
                    k.validUntil = valid;
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("renewing credit leases failed; they stay usable for their lifetime: {}", e.toString());
            return;
        }
        long now = System.nanoTime();
        for (KeyCredit k : keys.values()) {
            if (now - k.lastUse > idleNanos) {
                giveBack(k, true);
            }
        }
    }

    /** Gives every unused slice back, e.g. on shutdown after the writer drained. */
    public void returnAll() {
        for (KeyCredit k : keys.values()) {
            giveBack(k, false);
        }
    }

    private void giveBack(KeyCredit k, boolean onlyIfIdle) {
        BigDecimal back;
        CompletableFuture<Reserve> call = new CompletableFuture<>();
        synchronized (k) {
            if (k.dbCall != null || k.inUse.signum() != 0 || k.unwritten.signum() != 0 || k.leased.signum() == 0
                    || (onlyIfIdle && System.nanoTime() - k.lastUse <= idleNanos)) {
                return;
            }
            back = k.leased;
            k.leased = BigDecimal.ZERO;
            k.dbCall = call;                         // no growth while the database shrinks it
        }
        try {
            store.shrinkLease(holder, k.keyId, back);
        } catch (SQLException | RuntimeException e) {
            log.warn("giving back the credit lease of {} failed; it will be swept: {}", k.keyId, e.toString());
        } finally {
            synchronized (k) {
                k.dbCall = null;
            }
            call.complete(Reserve.RESERVED);
        }
    }
}
