package io.tollgate.proxy.http;

import io.tollgate.schema.Ids;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Request ids: {@code req_} and 32 hex digits, cheap enough for every request on the hot path. The
 * first 12 digits are the milliseconds since the epoch and the other 20 random (80 bits), so ids
 * sort by time: the request log's and the ledger's indexes on them grow at their right edge
 * instead of touching a random page per row.
 */
public final class RequestIds {

    private RequestIds() {
    }

    public static String next() {
        return next(System.currentTimeMillis());
    }

    static String next(long millis) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        char[] id = new char[36];
        id[0] = 'r';
        id[1] = 'e';
        id[2] = 'q';
        id[3] = '_';
        Ids.hex(id, 4, millis, 12);
        Ids.hex(id, 16, r.nextLong(), 16);
        Ids.hex(id, 32, r.nextInt(), 4);
        return new String(id);
    }
}
