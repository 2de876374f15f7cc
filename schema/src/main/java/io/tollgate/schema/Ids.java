package io.tollgate.schema;

import java.security.SecureRandom;
import java.util.Random;
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
        base62(out, at + 12, ThreadLocalRandom.current());
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
     * {@code n} base62 characters from a secure random source, uniformly (see {@link #base62}).
     */
    public static String random(int n) {
        char[] out = new char[n];
        base62(out, 0, RANDOM);
        return new String(out);
    }

    /**
     * Fills {@code out} from {@code at} to its end with base62 characters drawn uniformly from
     * {@code source}: six bits each, the two values past 61 drawn again, the bytes for all of them
     * in one call (a SecureRandom call per character cost the settling thread more than its SQL).
     */
    private static void base62(char[] out, int at, Random source) {
        int n = out.length - at;
        byte[] bits = new byte[n + n / 8 + 4];
        int used = bits.length;
        for (int i = at; i < out.length; ) {
            if (used == bits.length) {
                source.nextBytes(bits);
                used = 0;
            }
            int v = bits[used++] & 0x3F;
            if (v < ALPHABET.length) {
                out[i++] = ALPHABET[v];
            }
        }
    }
}
