package io.tollgate.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/** Header names of our own, and the hop-by-hop rules of RFC 9110 section 7.6.1. */
public final class Headers {

    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    public static final AsciiString X_API_KEY = AsciiString.cached("x-api-key");

    private static final Set<AsciiString> HOP_BY_HOP = Set.of(
            HttpHeaderNames.CONNECTION,
            HttpHeaderNames.KEEP_ALIVE,
            HttpHeaderNames.PROXY_AUTHENTICATE,
            HttpHeaderNames.PROXY_AUTHORIZATION,
            HttpHeaderNames.TE,
            HttpHeaderNames.TRAILER,
            HttpHeaderNames.TRANSFER_ENCODING,
            HttpHeaderNames.UPGRADE,
            AsciiString.cached("proxy-connection"));

    private Headers() {
    }

    /**
     * Copies end-to-end headers from {@code from} to {@code to}: hop-by-hop headers, those named in
     * Connection, and the names in {@code skip} (lower case) are left out.
     */
    public static void copyEndToEnd(HttpHeaders from, HttpHeaders to, Set<AsciiString> skip) {
        Set<String> namedInConnection = null;
        for (String v : from.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : v.split(",")) {
                String t = token.trim().toLowerCase();
                if (!t.isEmpty()) {
                    if (namedInConnection == null) {
                        namedInConnection = new java.util.HashSet<>();
                    }
                    namedInConnection.add(t);
                }
            }
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = from.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            AsciiString name = AsciiString.of(e.getKey()).toLowerCase();
            if (HOP_BY_HOP.contains(name) || skip.contains(name)
                    || (namedInConnection != null && namedInConnection.contains(name.toString()))) {
                continue;
            }
            to.add(name, e.getValue());
        }
    }

    /**
     * Takes out of {@code headers}, in place, what {@link #copyEndToEnd} would not copy: hop-by-hop
     * headers, those named in Connection, and the names in {@code skip}. Cheaper than a copy for a
     * message that is passed on: the headers the decoder validated stay as they are.
     */
    public static void removeHopByHop(HttpHeaders headers, Set<AsciiString> skip) {
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
        for (AsciiString name : HOP_BY_HOP) {
            headers.remove(name);
        }
        for (AsciiString name : skip) {
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
