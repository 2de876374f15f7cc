package io.tollgate.proxy.http;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * Netty's request decoder, except that a request carrying both Content-Length and
 * Transfer-Encoding keeps both headers, so {@link RequestFramingHandler} can refuse it
 * instead of Netty silently picking one (a request-smuggling vector behind other proxies).
 */
public final class RequestDecoder extends HttpRequestDecoder {

    public RequestDecoder(HttpDecoderConfig config) {
        super(config);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        // Keep Content-Length: the framing handler rejects the request and closes the connection.
    }
}
