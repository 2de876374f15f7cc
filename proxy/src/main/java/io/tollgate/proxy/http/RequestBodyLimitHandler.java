package io.tollgate.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * Counts request body bytes, whether announced by Content-Length or chunked. Past the limit it
 * fires {@link BodyLimitExceeded} once and discards the rest of that body, so the next handler
 * never forwards a complete over-limit request. A Content-Length over the limit is refused
 * before a single body byte is read.
 */
public final class RequestBodyLimitHandler extends ChannelInboundHandlerAdapter {

    private final long maxBytes;
    private long seen;
    private boolean overflowed;

    public RequestBodyLimitHandler(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            seen = 0;
            overflowed = false;
            long announced = HttpUtil.getContentLength(request, -1L);
            ctx.fireChannelRead(msg);
            if (announced > maxBytes) {
                overflow(ctx);
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            if (overflowed) {
                ReferenceCountUtil.release(msg);
                return;
            }
            int n = content.content().readableBytes();
            if (n > maxBytes - seen) {   // overflow-safe: never computes seen + n
                ReferenceCountUtil.release(msg);
                overflow(ctx);
                return;
            }
            seen += n;
            ctx.fireChannelRead(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void overflow(ChannelHandlerContext ctx) {
        overflowed = true;
        ctx.fireUserEventTriggered(new BodyLimitExceeded(maxBytes));
    }

    /** True while the current request's remaining body is being thrown away. */
    public boolean discarding() {
        return overflowed;
    }
}
