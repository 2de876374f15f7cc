package io.tollgate.schema;

import java.security.SecureRandom;
import java.util.concurrent.ThreadLocalRandom;

/** Random, URL-safe identifiers with a short type prefix: {@code acct_5Zq…}. */
public final class Ids {

    private static final char[] ALPHABET =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {
    }

    public static String newId(String prefix) {
        return prefix + "_" + random(20);
    }

    /**
     * Like {@link #newId} (20 characters after the prefix), but the first 12 are the milliseconds
     * since the epoch in hex and only the other 8 random: ids made close in time sit side by side
     * in a unique index, so a table that gains a row per request (the ledger) inserts at the
     * index's right edge instead of touching a random page per row.
     *
     * <p>Such an id names a row and guards nothing, so its random part comes from
     * {@link ThreadLocalRandom}: the secure source (a lock and a read of {@code /dev/urandom} a
     * call) was 6% of the settling thread's CPU, for one ledger entry per request.
     */
    public static String timeOrderedId(String prefix) {
        return timeOrderedId(prefix, System.currentTimeMillis());
    }

    static String timeOrderedId(String prefix, long millis) {
        char[] out = new char[prefix.length() + 21];
        prefix.getChars(0, prefix.length(), out, 0);
        int at = prefix.length();
        out[at++] = '_';
        hex(out, at, millis, 12);
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long bits = 0;
        int left = 0;                                       // unused 6-bit groups in bits
        for (int i = at + 12; i < out.length; ) {
            if (left == 0) {
                bits = random.nextLong();
                left = 10;
            }
            int v = (int) (bits & 0x3F);
            bits >>>= 6;
            left--;
            if (v < ALPHABET.length) {                      // 62 and 63 drawn again, as in random()
                out[i++] = ALPHABET[v];
            }
        }
        return new String(out);
    }

    /** Writes the low {@code digits} hex digits of {@code v} into {@code out} at {@code at}, most significant first. */
    public static void hex(char[] out, int at, long v, int digits) {
        for (int i = at + digits - 1; i >= at; i--) {
            out[i] = HEX[(int) (v & 0xF)];
            v >>>= 4;
        }
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
