package io.tollgate.proxy.billing;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the money path behaves, fixed at start-up.
 *
 * @param journalDir       where outcomes wait until the database has them ({@link Journal}); null
 *                         keeps them in memory only, so a crash of the process loses those not yet
 *                         written
 * @param creditLeaseTtl   a credit lease lives this long in the database without renewal; it is
 *                         renewed every third of it, and this proxy stops drawing on a slice it
 *                         could not renew for two thirds of it
 * @param leaseIdleReturn  a key's slice unused this long is given back
 * @param outageAllowance  how long after a database call first failed the slices already held may
 *                         still be drawn on (never past their two thirds of {@code creditLeaseTtl});
 *                         {@link Duration#ZERO} refuses reservations that need the database, with
 *                         503, from the first failure until a call succeeds again
 * @param drainTimeout     on close, how long the outcome writer may try to reach the database; with
 *                         a journal it stops at the first failure instead, the journal keeps the rest
 */
public record BillingConfig(Path journalDir, Duration creditLeaseTtl, Duration leaseIdleReturn,
                            Duration outageAllowance, Duration drainTimeout) {

    public BillingConfig {
        if (creditLeaseTtl.compareTo(Duration.ofSeconds(3)) < 0) {
            throw new IllegalArgumentException("creditLeaseTtl must be at least 3 s, was " + creditLeaseTtl);
        }
        if (outageAllowance.isNegative()) {
            throw new IllegalArgumentException("outageAllowance must not be negative, was " + outageAllowance);
        }
    }

    /** In-memory outcomes, 60 s leases given back after 10 s idle, the whole lease validity as allowance. */
    public static BillingConfig defaults() {
        Duration ttl = Duration.ofSeconds(60);
        return new BillingConfig(null, ttl, Duration.ofSeconds(10), validity(ttl), Duration.ofSeconds(10));
    }

    /** Outcomes journaled in {@code dir} (null: in memory). */
    public BillingConfig withJournalDir(Path dir) {
        return new BillingConfig(dir, creditLeaseTtl, leaseIdleReturn, outageAllowance, drainTimeout);
    }

    /** Leases of this lifetime; an allowance that was the whole validity stays the whole validity. */
    public BillingConfig withCreditLeaseTtl(Duration ttl) {
        Duration allowance = outageAllowance.equals(validity(creditLeaseTtl)) ? validity(ttl) : outageAllowance;
        return new BillingConfig(journalDir, ttl, leaseIdleReturn, allowance, drainTimeout);
    }

    public BillingConfig withLeaseIdleReturn(Duration idle) {
        return new BillingConfig(journalDir, creditLeaseTtl, idle, outageAllowance, drainTimeout);
    }

    public BillingConfig withOutageAllowance(Duration allowance) {
        return new BillingConfig(journalDir, creditLeaseTtl, leaseIdleReturn, allowance, drainTimeout);
    }

    /** How long after its last renewal a slice is drawn on: two thirds of the lease's lifetime. */
    public static Duration validity(Duration ttl) {
        return ttl.multipliedBy(2).dividedBy(3);
    }
}
