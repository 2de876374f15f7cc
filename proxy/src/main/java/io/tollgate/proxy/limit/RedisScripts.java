package io.tollgate.proxy.limit;

/**
 * The Lua scripts and the key layout. Every key of one decision carries the same hash tag
 * ({@code {keyId}} or {@code {scope}}), so each script touches a single Redis Cluster slot.
 * Scripts read the Redis clock ({@code TIME}; Redis 7 replicates script effects, so that is
 * safe), return integers only, and accept the time as a last, optional argument for tests.
 */
final class RedisScripts {

    private RedisScripts() {
    }

    /** {@code rl:{<keyId>}:<class>}: the key's TAT for one class. */
    static String rateKey(String keyId, LimitClass cls) {
        return "rl:{" + keyId + "}:" + cls.wireName();
    }

    /** {@code cs:{<scope>}:<slotClass>}: a ZSET holder → lease expiry in ms. */
    static String slotKey(String scope, String slotClass) {
        return "cs:{" + scope + "}:" + slotClass;
    }

    /**
     * GCRA like redis-cell ({@link Gcra} is the Java twin). KEYS[1] holds the TAT in µs.
     * ARGV: limit per minute, cost, want (the most to take: a lease takes more than its
     * request's cost; want = cost is the plain GCRA), [now in ms, tests only].
     * Returns {allowed 0/1, remaining, reset_ms (until one request passes), retry_after_ms
     * (-1: never fits), granted (0 when refused, else between cost and want)}.
     */
    static final RedisScript GCRA = RedisScript.of("gcra", """
            local limit = tonumber(ARGV[1])
            local cost = tonumber(ARGV[2])
            local want = tonumber(ARGV[3])
            local now
            if ARGV[4] then
              now = tonumber(ARGV[4]) * 1000
            else
              local t = redis.call('TIME')
              now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            end
            local interval = math.ceil(60000000 / limit)
            local tolerance = interval * limit
            local tat = tonumber(redis.call('GET', KEYS[1]) or now)
            if tat < now then tat = now end
            local fits = math.floor((now - tat + tolerance) / interval)
            local granted = 0
            local retry = 0
            local state = tat
            if fits >= cost then
              granted = math.min(want, fits)
              state = tat + interval * granted
              redis.call('SET', KEYS[1], string.format('%.0f', state), 'PX',
                string.format('%.0f', math.max(1, math.ceil((state - now) / 1000))))
            elseif interval * cost > tolerance then
              retry = -1
            else
              retry = math.ceil((tat + interval * cost - tolerance - now) / 1000)
            end
            local remaining = math.floor((tolerance - (state - now)) / interval)
            if remaining < 0 then remaining = 0 end
            local reset = state + interval - tolerance - now
            if reset < 0 then reset = 0 end
            local allowed = 0
            if granted > 0 then allowed = 1 end
            return {allowed, remaining, math.ceil(reset / 1000), retry, granted}
            """);

    /**
     * Leased slots. KEYS[1] is the ZSET holder → expiry (ms); expired members go first. A holder
     * already present just gets a new lease. ARGV: max, holder, lease ms, [now in ms, tests only].
     * Returns {acquired 0/1, in use, ms until the oldest lease ends (when refused)}.
     */
    static final RedisScript SLOT_ACQUIRE = RedisScript.of("slot_acquire", """
            local max = tonumber(ARGV[1])
            local lease = tonumber(ARGV[3])
            local now
            if ARGV[4] then
              now = tonumber(ARGV[4])
            else
              local t = redis.call('TIME')
              now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            end
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
            local held = redis.call('ZSCORE', KEYS[1], ARGV[2])
            local count = redis.call('ZCARD', KEYS[1])
            if (not held) and count >= max then
              local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
              local wait = 0
              if first[2] then wait = tonumber(first[2]) - now end
              return {0, count, wait}
            end
            redis.call('ZADD', KEYS[1], string.format('%.0f', now + lease), ARGV[2])
            if not held then count = count + 1 end
            local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
            redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.max(1, tonumber(last[2]) - now)))
            return {1, count, 0}
            """);

    /** ARGV: holder, lease ms, [now in ms, tests only]. Returns 1 when renewed, 0 when not held. */
    static final RedisScript SLOT_RENEW = RedisScript.of("slot_renew", """
            local lease = tonumber(ARGV[2])
            local now
            if ARGV[3] then
              now = tonumber(ARGV[3])
            else
              local t = redis.call('TIME')
              now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            end
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
            if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
              return 0
            end
            redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now + lease), ARGV[1])
            local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
            redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.max(1, tonumber(last[2]) - now)))
            return 1
            """);
}
