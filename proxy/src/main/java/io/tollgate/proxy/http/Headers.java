package io.tollgate.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.HashSet;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Header names of our own, and the hop-by-hop rules of RFC 9110 section 7.6.1. */
public final class Headers {

    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    public static final AsciiString X_API_KEY = AsciiString.cached("x-api-key");

    private static final AsciiString[] HOP_BY_HOP = {
            HttpHeaderNames.CONNECTION,
            HttpHeaderNames.KEEP_ALIVE,
            HttpHeaderNames.PROXY_AUTHENTICATE,
            HttpHeaderNames.PROXY_AUTHORIZATION,
            HttpHeaderNames.TE,
            HttpHeaderNames.TRAILER,
            HttpHeaderNames.TRANSFER_ENCODING,
            HttpHeaderNames.UPGRADE,
            AsciiString.cached("proxy-connection")};

    private Headers() {
    }

    /**
     * The headers a hop leaves out: the hop-by-hop ones and {@code skip}. Asked once per header of
     * every message, so it is a small hash table over case-insensitive hashes: no lower-cased copy
     * of each name, no set lookups.
     */
    public static Dropped dropping(AsciiString... skip) {
        return new Dropped(skip);
    }

    /** See {@link #dropping}. */
    public static final class Dropped {

        private final AsciiString[] names;
        private final AsciiString[] table;
        private final int mask;

        private Dropped(AsciiString[] skip) {
            names = new AsciiString[HOP_BY_HOP.length + skip.length];
            System.arraycopy(HOP_BY_HOP, 0, names, 0, HOP_BY_HOP.length);
            System.arraycopy(skip, 0, names, HOP_BY_HOP.length, skip.length);
            table = new AsciiString[Integer.highestOneBit(names.length * 4)];
            mask = table.length - 1;
            for (AsciiString n : names) {
                int i = AsciiString.hashCode(n) & mask;
                while (table[i] != null) {
                    i = (i + 1) & mask;
                }
                table[i] = n;
            }
        }

        /** Whether {@code name} is left out, in any case. */
        public boolean contains(CharSequence name) {
            for (int i = AsciiString.hashCode(name) & mask; table[i] != null; i = (i + 1) & mask) {
                if (table[i].contentEqualsIgnoreCase(name)) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * Copies end-to-end headers from {@code from} to {@code to}, names as they came: hop-by-hop
     * headers, those named in Connection, and the names {@code drop} has are left out.
     */
    public static void copyEndToEnd(HttpHeaders from, HttpHeaders to, Dropped drop) {
        Set<String> namedInConnection = null;
        if (from.contains(HttpHeaderNames.CONNECTION)) {
            for (String v : from.getAll(HttpHeaderNames.CONNECTION)) {
                for (String token : v.split(",")) {
                    String t = token.trim().toLowerCase(Locale.ROOT);
                    if (!t.isEmpty()) {
                        if (namedInConnection == null) {
                            namedInConnection = new HashSet<>();
                        }
                        namedInConnection.add(t);
                    }
                }
            }
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = from.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            CharSequence name = e.getKey();
            if (drop.contains(name)
                    || (namedInConnection != null && namedInConnection.contains(name.toString().toLowerCase(Locale.ROOT)))) {
                continue;
            }
            to.add(name, e.getValue());
        }
    }

    /**
     * Takes out of {@code headers}, in place, what {@link #copyEndToEnd} would not copy: hop-by-hop
     * headers, those named in Connection, and the names {@code drop} has. Cheaper than a copy for
     * a message that is passed on: the headers the decoder validated stay as they are.
     */
    public static void removeHopByHop(HttpHeaders headers, Dropped drop) {
        if (headers.contains(HttpHeaderNames.CONNECTION)) {
            for (String v : headers.getAll(HttpHeaderNames.CONNECTION)) {
                for (String token : v.split(",")) {
                    String t = token.trim();
                    if (!t.isEmpty()) {
                        headers.remove(t);                 // names compare ignoring case
                    }
                }
            }
        }
        for (AsciiString name : drop.names) {
            headers.remove(name);
        }
    }

    /** The key from {@code Authorization: Bearer …} or {@code x-api-key}, or null. */
    public static String presentedKey(HttpHeaders headers) {
        String auth = headers.get(HttpHeaderNames.AUTHORIZATION);
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String k = auth.substring(7).trim();
            return k.isEmpty() ? null : k;
        }
        String k = headers.get(X_API_KEY);
        return k == null || k.isBlank() ? null : k.trim();
    }
}
