package io.tollgate.proxy.http;

import java.util.concurrent.ThreadLocalRandom;

/** Request ids ({@code req_} and 32 hex digits): every response carries one, errors from the codec layer too. */
public final class RequestIds {

    private RequestIds() {
    }

    public static String next() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return "req_" + Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
    }
}
