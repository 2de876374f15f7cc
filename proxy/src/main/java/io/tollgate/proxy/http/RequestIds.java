package io.tollgate.proxy.http;

import java.util.concurrent.ThreadLocalRandom;

/** Request ids: {@code req_} and 32 hex digits, cheap enough for every request on the hot path. */
public final class RequestIds {

    private RequestIds() {
    }

    public static String next() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return "req_" + hex16(r.nextLong()) + hex16(r.nextLong());
    }

    private static String hex16(long v) {
        String s = Long.toHexString(v);
        return s.length() == 16 ? s : "0".repeat(16 - s.length()) + s;
    }
}
