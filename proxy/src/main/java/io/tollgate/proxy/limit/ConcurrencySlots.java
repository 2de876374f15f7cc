package io.tollgate.proxy.limit;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * At most {@code max} concurrent holders per scope (the video task limit: 2 per account).
 *
 * <p>Every slot is a lease: a holder that never releases (its proxy died) loses the slot when the
 * lease runs out; long holders {@link #renew} before that. Like {@link RateLimiter}, nothing here
 * blocks or completes exceptionally.
 */
public interface ConcurrencySlots extends AutoCloseable {

    /** The slot class of concurrent video generation tasks. */
    String VIDEO = "video";

    /**
     * Takes a slot for {@code holderId} (for example the task id) unless {@code max} are held.
     * Acquiring again with the same holder is idempotent: it renews that holder's lease.
     */
    CompletionStage<SlotResult> acquire(String scope, String slotClass, int max, String holderId, Duration lease);

    /**
     * Extends the holder's lease to {@code lease} from now. False only when the store says the
     * holder no longer holds a slot (its lease ran out); true when extended, and also while the
     * store cannot be reached (the lease there is untouched and still runs).
     */
    CompletionStage<Boolean> renew(String scope, String slotClass, String holderId, Duration lease);

    /** Frees the holder's slot (success, failure or timeout of the task); unknown holders are ignored. */
    CompletionStage<Void> release(String scope, String slotClass, String holderId);

    @Override
    void close();
}
