package io.tollgate.proxy.media;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import io.tollgate.proxy.http.Headers;
import io.tollgate.proxy.upstream.UpstreamTarget;
import io.tollgate.schema.Upstream;

import java.util.Set;

/** The header rules of a request sent upstream and of its answer, the same as for chat. */
final class UpstreamRequests {

    /** Upstream statuses that are the client's own doing and pass through untouched. */
    static final Set<Integer> PASS_THROUGH = Set.of(400, 404, 409, 413, 422, 429);
    /** Client headers never sent upstream: its key, our framing, and its id (ours replaces it). */
    static final Headers.Dropped NOT_FORWARDED = Headers.dropping(
            HttpHeaderNames.HOST, HttpHeaderNames.AUTHORIZATION, Headers.X_API_KEY,
            HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.ACCEPT_ENCODING,
            HttpHeaderNames.EXPECT, HttpHeaderNames.TRANSFER_ENCODING, Headers.X_REQUEST_ID);
    static final Headers.Dropped NOT_RETURNED = Headers.dropping(Headers.X_REQUEST_ID);
    private static final String MOCK = "mock";

    private UpstreamRequests() {
    }

    /**
     * The headers of a request for {@code upstream}: the client's end-to-end ones when there is a
     * client ({@code from} may be null), then the upstream's host and key and our request id.
     * The body is JSON; its length is the caller's to set.
     */
    static void headers(HttpHeaders from, HttpHeaders to, Upstream upstream, UpstreamTarget target, String requestId) {
        if (from != null) {
            Headers.copyEndToEnd(from, to, NOT_FORWARDED);
        }
        to.set(HttpHeaderNames.HOST, target.hostHeader());
        String key = upstream.apiKey().isEmpty() && MOCK.equals(upstream.provider())
                ? MOCK : upstream.apiKey();                  // the built-in mock wants some key, any
        if (!key.isEmpty()) {
            to.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + key);
        }
        to.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        to.set(Headers.X_REQUEST_ID, requestId);
    }
}
