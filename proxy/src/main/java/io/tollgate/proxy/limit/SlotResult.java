package io.tollgate.proxy.limit;

/**
 * Answer to a concurrency-slot acquire.
 *
 * @param outcome           allowed (the holder has a slot), limited (429 {@code too_many_video_tasks})
 *                          or unavailable (fail-closed, 503)
 * @param inUse             slots held in this scope after the call
 * @param max               the maximum that applied
 * @param retryAfterSeconds when limited: seconds until the oldest lease runs out at the latest
 *                          (a release may free a slot sooner); 0 when allowed
 */
public record SlotResult(Outcome outcome, int inUse, int max, long retryAfterSeconds) {

    public boolean acquired() {
        return outcome == Outcome.ALLOWED;
    }

    public boolean unavailable() {
        return outcome == Outcome.UNAVAILABLE;
    }

    static SlotResult acquired(int inUse, int max) {
        return new SlotResult(Outcome.ALLOWED, inUse, max, 0);
    }

    static SlotResult refused(int inUse, int max, long msUntilOldestExpires) {
        return new SlotResult(Outcome.LIMITED, inUse, max, Math.max(1, Math.ceilDiv(Math.max(0, msUntilOldestExpires), 1000L)));
    }

    static SlotResult unavailable(int max) {
        return new SlotResult(Outcome.UNAVAILABLE, 0, max, 1);
    }
}
