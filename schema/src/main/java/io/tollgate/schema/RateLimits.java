package io.tollgate.schema;

/** Requests-per-minute overrides of one key; a null field falls back to the account tier's. */
public record RateLimits(Integer general, Integer imageSubmit, Integer imagePoll) {

    public static final RateLimits NONE = new RateLimits(null, null, null);
}
