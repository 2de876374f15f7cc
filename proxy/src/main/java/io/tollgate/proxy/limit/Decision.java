package io.tollgate.proxy.limit;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One rate-limit answer, ready for the {@code X-RateLimit-*} headers.
 *
 * @param outcome           allowed, limited (429 {@code rate_limit_exceeded}) or unavailable (503)
 * @param limit             requests per minute that applied ({@code X-RateLimit-Limit})
 * @param remaining         requests that would still be allowed right now ({@code X-RateLimit-Remaining})
 * @param resetSeconds      seconds until a request is allowed again, 0 when one is allowed now
 *                          ({@code X-RateLimit-Reset}, SPEC §2)
 * @param retryAfterSeconds for {@code Retry-After}: at least 1 when not allowed, 0 when allowed
 */
public record Decision(Outcome outcome, int limit, int remaining, long resetSeconds, long retryAfterSeconds) {

    /** What a refused request larger than the whole burst is told to wait: a full window. */
    static final long NEVER_FITS_RETRY_SECONDS = 60;

    public Decision {
        if (outcome == null) {
            throw new IllegalArgumentException("outcome");
        }
        if (remaining < 0 || resetSeconds < 0 || retryAfterSeconds < 0) {
            throw new IllegalArgumentException("negative remaining/reset/retry-after");
        }
        if (outcome != Outcome.ALLOWED && retryAfterSeconds < 1) {
            throw new IllegalArgumentException("a refusal needs a Retry-After of at least 1 s");
        }
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOWED;
    }

    public boolean limited() {
        return outcome == Outcome.LIMITED;
    }

    /** Fail-closed and the shared limiter is down: answer 503, do not call the upstream. */
    public boolean unavailable() {
        return outcome == Outcome.UNAVAILABLE;
    }

    /**
     * The response headers SPEC §2 asks for: {@code X-RateLimit-Limit}, {@code -Remaining} and
     * {@code -Reset} on every limited response, and {@code Retry-After} when refused. An
     * unavailable decision knows no budget, so it only carries {@code Retry-After}.
     */
    public Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        if (outcome != Outcome.UNAVAILABLE) {
            h.put("X-RateLimit-Limit", Integer.toString(limit));
            h.put("X-RateLimit-Remaining", Integer.toString(remaining));
            h.put("X-RateLimit-Reset", Long.toString(resetSeconds));
        }
        if (outcome != Outcome.ALLOWED) {
            h.put("Retry-After", Long.toString(retryAfterSeconds));
        }
        return Collections.unmodifiableMap(h);
    }

    private static final AsciiString LIMIT = AsciiString.cached("X-RateLimit-Limit");
    private static final AsciiString REMAINING = AsciiString.cached("X-RateLimit-Remaining");
    private static final AsciiString RESET = AsciiString.cached("X-RateLimit-Reset");
    private static final AsciiString RETRY_AFTER = AsciiString.cached("Retry-After");

    /** Sets {@link #headers()} on a response, without building the map (once per request on the hot path). */
    public void addTo(HttpHeaders h) {
        if (outcome != Outcome.UNAVAILABLE) {
            h.set(LIMIT, Integer.toString(limit));
            h.set(REMAINING, Integer.toString(remaining));
            h.set(RESET, Long.toString(resetSeconds));
        }
        if (outcome != Outcome.ALLOWED) {
            h.set(RETRY_AFTER, Long.toString(retryAfterSeconds));
        }
    }

    public static Decision unavailable(int limit) {
        return new Decision(Outcome.UNAVAILABLE, limit, 0, 0, 1);
    }

    /**
     * From the four integers of the GCRA (Lua or Java): allowed flag, remaining, reset in ms and
     * retry-after in ms (-1: the request is larger than the burst and never fits).
     */
    static Decision fromGcra(boolean allowed, int limit, long remaining, long resetMs, long retryAfterMs) {
        int rem = (int) Math.max(0, Math.min(Integer.MAX_VALUE, remaining));
        long reset = Math.ceilDiv(Math.max(0, resetMs), 1000L);
        if (allowed) {
            return new Decision(Outcome.ALLOWED, limit, rem, reset, 0);
        }
        long retry = retryAfterMs < 0 ? NEVER_FITS_RETRY_SECONDS : Math.max(1, Math.ceilDiv(retryAfterMs, 1000L));
        return new Decision(Outcome.LIMITED, limit, rem, reset, retry);
    }

    /**
     * What every limiter answers before looking at a budget: the refusal of a limit of zero (or
     * less), or null when the budget decides.
     *
     * @throws IllegalArgumentException for a cost below 1
     */
    static Decision upFront(int limitPerMinute, int cost) {
        if (cost < 1) {
            throw new IllegalArgumentException("cost must be at least 1");
        }
        return limitPerMinute < 1 ? blocked(limitPerMinute) : null;
    }

    /** A limit of zero (or less) refuses everything in that class. */
    static Decision blocked(int limit) {
        return new Decision(Outcome.LIMITED, Math.max(0, limit), 0, NEVER_FITS_RETRY_SECONDS, NEVER_FITS_RETRY_SECONDS);
    }
}
