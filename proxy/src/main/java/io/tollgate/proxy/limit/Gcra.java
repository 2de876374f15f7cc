package io.tollgate.proxy.limit;

/**
 * The generic cell rate algorithm as redis-cell does it, in microseconds; {@link RedisScripts#GCRA}
 * is the same arithmetic in Lua, and the conformance tests hold the two to the same table.
 *
 * <p>A key's state is one number, its theoretical arrival time (TAT). Each request pushes the TAT
 * forward by the emission interval ({@code 60 s / limit}); a request is allowed while the TAT it
 * would leave is at most one window ({@code limit} intervals) ahead of now. So a fresh key may
 * burst {@code limit} requests, then gets one per interval: no window edge lets 2x through.
 */
final class Gcra {

    static final long WINDOW_MICROS = 60_000_000L;

    private Gcra() {
    }

    /**
     * @param allowed      whether the request passed
     * @param remaining    requests that would pass right after this one
     * @param resetMs      ms until one request passes again (0 when one passes now)
     * @param retryAfterMs ms until this request would pass; 0 when allowed, -1 when it never fits
     * @param newTat       the TAT to store when allowed (the state is unchanged when refused)
     * @param granted      requests taken from the budget: 0 when refused, else between the cost and
     *                     the number wanted (a lease takes more than its request's cost)
     */
    record Result(boolean allowed, long remaining, long resetMs, long retryAfterMs, long newTat, int granted) {

        Decision toDecision(int limit) {
            return Decision.fromGcra(allowed, limit, remaining, resetMs, retryAfterMs);
        }
    }

    /** The emission interval, rounded up so the burst is exactly {@code limit} requests. */
    static long intervalMicros(int limitPerMinute) {
        return Math.ceilDiv(WINDOW_MICROS, limitPerMinute);
    }

    /**
     * @param storedTat the key's TAT, or {@code null} for a key never seen or expired
     * @param nowMicros the clock
     */
    static Result evaluate(Long storedTat, long nowMicros, int limitPerMinute, int cost) {
        return evaluate(storedTat, nowMicros, limitPerMinute, cost, cost);
    }

    /**
     * Takes at least {@code cost} and at most {@code want} requests: as many as fit now, or none
     * when fewer than {@code cost} fit. With {@code want == cost} this is the plain GCRA.
     */
    static Result evaluate(Long storedTat, long nowMicros, int limitPerMinute, int cost, int want) {
        long interval = intervalMicros(limitPerMinute);
        long tolerance = interval * limitPerMinute;
        long tat = storedTat == null ? nowMicros : Math.max(storedTat, nowMicros);
        long fits = Math.floorDiv(nowMicros - tat + tolerance, interval);
        boolean allowed = fits >= cost;
        int granted = allowed ? (int) Math.min(want, fits) : 0;
        long newTat = tat + interval * granted;
        long state = allowed ? newTat : tat;
        long increment = interval * cost;
        long retry = allowed ? 0 : increment > tolerance ? -1
                : Math.ceilDiv(tat + increment - tolerance - nowMicros, 1000L);
        long remaining = Math.max(0, Math.floorDiv(tolerance - (state - nowMicros), interval));
        long reset = Math.max(0, state + interval - tolerance - nowMicros);
        return new Result(allowed, remaining, Math.ceilDiv(reset, 1000L), retry, newTat, granted);
    }
}
