package io.tollgate.proxy.limit;

import java.util.concurrent.CompletionStage;

/**
 * Per-key requests-per-minute limits, one independent budget per {@link LimitClass}.
 *
 * <p>Calls never block and the stage never completes exceptionally: a failure of the backing
 * store becomes the failure policy's decision. The stage may complete on a Redis I/O thread (or
 * inline); callers hop back to their event loop before touching a channel, and must not block
 * in the callback.
 */
public interface RateLimiter extends AutoCloseable {

    /** Takes one request from the key's budget for this class, if there is one. */
    default CompletionStage<Decision> acquire(String keyId, LimitClass cls, int limitPerMinute) {
        return acquire(keyId, cls, limitPerMinute, 1);
    }

    /**
     * Takes {@code cost} requests at once (all or nothing). A {@code limitPerMinute} of 0 or less
     * refuses everything in the class.
     */
    CompletionStage<Decision> acquire(String keyId, LimitClass cls, int limitPerMinute, int cost);

    @Override
    void close();
}
