package io.tollgate.schema;

import java.security.SecureRandom;

/** Random, URL-safe identifiers with a short type prefix: {@code acct_5Zq…}. */
public final class Ids {

    private static final char[] ALPHABET =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {
    }

    public static String newId(String prefix) {
        return prefix + "_" + random(20);
    }

    /**
     * {@code n} base62 characters from a secure random source, uniformly: each takes six random
     * bits, and the two values past 61 are drawn again. One draw of bytes for all of them (a
     * SecureRandom call per character cost the settling thread more than its SQL encoding).
     */
    public static String random(int n) {
        char[] out = new char[n];
        byte[] bits = new byte[n + n / 8 + 4];
        int used = bits.length;
        for (int i = 0; i < n; ) {
            if (used == bits.length) {
                RANDOM.nextBytes(bits);
                used = 0;
            }
            int v = bits[used++] & 0x3F;
            if (v < ALPHABET.length) {
                out[i++] = ALPHABET[v];
            }
        }
        return new String(out);
    }
}
