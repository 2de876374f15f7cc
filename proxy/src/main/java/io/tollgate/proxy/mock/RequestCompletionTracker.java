package io.tollgate.proxy.mock;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Counts request heads, and connections that closed between a head and the end of its body,
 * which an aggregator would silently drop.
 */
final class RequestCompletionTracker extends ChannelInboundHandlerAdapter {

    private final MockRecords records;
    private boolean midRequest;

    RequestCompletionTracker(MockRecords records) {
        this.records = records;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            records.headReceived();
            midRequest = true;
        }
        // A failed last chunk (e.g. the decoder's premature-closure marker) completes nothing.
        if (msg instanceof LastHttpContent last && last.decoderResult().isSuccess()) {
            midRequest = false;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (midRequest) {
            midRequest = false;
            records.incompleteRequest();
        }
        ctx.fireChannelInactive();
    }
}
