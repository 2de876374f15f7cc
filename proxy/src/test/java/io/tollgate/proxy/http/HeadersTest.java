package io.tollgate.proxy.http;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The hop-by-hop rules of RFC 9110 section 7.6.1, whether headers are copied or passed on in place. */
class HeadersTest {

    private static final Headers.Dropped SKIP = Headers.dropping(Headers.X_REQUEST_ID);

    private static HttpHeaders upstreamHeaders() {
        return DefaultHttpHeadersFactory.headersFactory().newHeaders()
                .add("Content-Type", "application/json")
                .add("Connection", "keep-alive, X-Internal-Trace")
                .add("connection", "Foo,")
                .add("Keep-Alive", "timeout=5")
                .add("Transfer-Encoding", "chunked")
                .add("Proxy-Connection", "keep-alive")
                .add("TE", "trailers")
                .add("Upgrade", "h2c")
                .add("X-Internal-Trace", "abc")
                .add("foo", "bar")
                .add("X-Request-ID", "theirs")
                .add("OpenAI-Processing-MS", "12")
                .add("Set-Cookie", "a=1")
                .add("Set-Cookie", "b=2");
    }

    private static final List<Map.Entry<String, String>> END_TO_END = List.of(
            Map.entry("content-type", "application/json"),
            Map.entry("openai-processing-ms", "12"),
            Map.entry("set-cookie", "a=1"),
            Map.entry("set-cookie", "b=2"));

    @Test
    void aCopyHasOnlyTheEndToEndHeaders() {
        HttpHeaders to = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        Headers.copyEndToEnd(upstreamHeaders(), to, SKIP);
        assertThat(lowerCased(to)).containsExactlyInAnyOrderElementsOf(END_TO_END);
    }

    @Test
    void removingInPlaceLeavesWhatACopyWouldHave() {
        HttpHeaders h = upstreamHeaders();
        Headers.removeHopByHop(h, SKIP);
        assertThat(lowerCased(h)).containsExactlyInAnyOrderElementsOf(END_TO_END);
        assertThat(h.getAll(HttpHeaderNames.SET_COOKIE)).as("repeated headers keep their order").containsExactly("a=1", "b=2");
    }

    @Test
    void droppedNamesAreFoundInAnyCaseAndNoOthers() {
        Headers.Dropped d = Headers.dropping(Headers.X_REQUEST_ID, AsciiString.cached("host"));
        for (String name : List.of("connection", "Keep-Alive", "PROXY-AUTHENTICATE", "Proxy-Authorization", "te",
                "Trailer", "transfer-encoding", "Upgrade", "Proxy-Connection", "X-Request-Id", "HOST")) {
            assertThat(d.contains(name)).as(name).isTrue();
            assertThat(d.contains(new AsciiString(name))).as(name).isTrue();
        }
        for (String name : List.of("content-type", "hosts", "hos", "x-request", "t", "", "tee", "connectionx")) {
            assertThat(d.contains(name)).as(name).isFalse();
        }
    }

    @Test
    void headersWithoutConnectionLoseNothingEndToEnd() {
        HttpHeaders h = DefaultHttpHeadersFactory.headersFactory().newHeaders()
                .add("content-type", "text/event-stream").add("cache-control", "no-cache");
        Headers.removeHopByHop(h, SKIP);
        assertThat(h.names()).containsExactlyInAnyOrder("content-type", "cache-control");
    }

    private static List<Map.Entry<String, String>> lowerCased(HttpHeaders h) {
        return h.entries().stream().map(e -> Map.entry(e.getKey().toLowerCase(), e.getValue())).toList();
    }
}
