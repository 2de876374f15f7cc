package io.tollgate.proxy.limit;

/** What a Redis-backed limiter answers while Redis cannot be reached (timeout, refused, frozen). */
public enum FailurePolicy {
    /** Fall back to an in-process limiter: each instance then enforces the limit on its own. */
    OPEN,
    /** Answer {@link Outcome#UNAVAILABLE}: the caller refuses with 503. */
    CLOSED
}
