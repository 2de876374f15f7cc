package io.tollgate.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * Netty's response encoder, and where the handlers behind it ask for the next request message:
 * their read() passes this encoder's context on its way to the socket (the decoder beside it,
 * an inbound handler, never sees one), and goes to {@link RequestDecoder#readRequested}, which
 * hands on a message it holds or reads the socket. No context of its own is passed for it.
 */
public final class ResponseEncoder extends HttpResponseEncoder {

    private final RequestDecoder decoder;

    public ResponseEncoder(RequestDecoder decoder) {
        this.decoder = decoder;
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        decoder.readRequested(ctx);
    }
}
