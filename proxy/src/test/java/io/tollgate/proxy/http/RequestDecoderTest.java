package io.tollgate.proxy.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class RequestDecoderTest {

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(
                new RequestDecoder(new HttpDecoderConfig().setMaxHeaderSize(1024)),
                new HttpResponseEncoder());
    }

    private static FullHttpResponse response(EmbeddedChannel ch) {
        EmbeddedChannel client = new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(1 << 16));
        Object out;
        while ((out = ch.readOutbound()) != null) {
            client.writeInbound(out);
        }
        return client.readInbound();
    }

    private static void write(EmbeddedChannel ch, String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
    }

    /**
     * Asserts that nothing was passed on, that one answer of {@code status} with a request id went
     * out and that the connection is closed; returns the answer's body.
     */
    private static String refusal(EmbeddedChannel ch, int status) {
        assertThat((Object) ch.readInbound()).as("nothing decoded is passed on").isNull();
        FullHttpResponse r = response(ch);
        try {
            assertThat(r.status().code()).isEqualTo(status);
            assertThat(r.headers().get("x-request-id")).startsWith("req_");
            return r.content().toString(StandardCharsets.UTF_8);
        } finally {
            r.release();
            assertThat(ch.isOpen()).isFalse();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aWellFramedRequestPassesThrough() {
        EmbeddedChannel ch = channel();
        write(ch, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
        Object head = ch.readInbound();
        assertThat(head).isInstanceOf(HttpRequest.class);
        Object body = ch.readInbound();
        ReferenceCountUtil.release(body);
        assertThat(ch.isOpen()).isTrue();
        assertThat((Object) ch.readOutbound()).isNull();
        ch.finishAndReleaseAll();
    }

    @Test
    void contentLengthWithTransferEncodingIsRefusedAndClosed() {
        EmbeddedChannel ch = channel();
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assertThat(refusal(ch, 400)).contains("\"code\":\"invalid_request\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "Content-Length: 2\r\nContent-Length: 2\r\n",
            "Content-Length: 2, 2\r\n",
            "Transfer-Encoding: chunked, gzip\r\n"})
    void ambiguousBodyLengthsAreRefusedAndClosed(String headers) {
        EmbeddedChannel ch = channel();
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n{}");
        assertThat(refusal(ch, 400)).contains("\"code\":\"invalid_request\"");
    }

    @Test
    void anOversizedHeadGets431() {
        EmbeddedChannel ch = channel();
        write(ch, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(4096) + "\r\n\r\n");
        assertThat(refusal(ch, 431)).contains("\"code\":\"headers_too_large\"");
    }

    @Test
    void nothingPipelinedBehindARefusedRequestGoesOn() {
        EmbeddedChannel ch = channel();
        // Netty reads this head fine (the decoder keeps both headers): the refusal is ours
        write(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                + "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
        assertThat(refusal(ch, 400)).contains("\"code\":\"invalid_request\"");
    }

    @Test
    void aChunkedBodyThatCannotBeDecodedClosesTheConnection() {
        EmbeddedChannel ch = channel();
        write(ch, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
        Object head = ch.readInbound();
        assertThat(head).isInstanceOf(HttpRequest.class);
        assertThat((Object) ch.readInbound()).as("the failed body is not passed on").isNull();
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }
}
