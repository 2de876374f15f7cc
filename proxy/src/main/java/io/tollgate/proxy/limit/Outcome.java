package io.tollgate.proxy.limit;

/** What a limiter answered: go ahead, over the limit (429), or no answer to be had (503). */
public enum Outcome {
    ALLOWED,
    LIMITED,
    /** The shared limiter could not be asked and the failure policy is fail-closed. */
    UNAVAILABLE
}
