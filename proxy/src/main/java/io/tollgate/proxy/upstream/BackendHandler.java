package io.tollgate.proxy.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * The upstream side of an exchange: hands each response message to the exchange that currently
 * owns this connection. A pooled connection has no owner; anything it receives is unexpected and
 * closes it, since a connection with stray bytes can no longer be trusted for framing.
 */
public final class BackendHandler extends ChannelInboundHandlerAdapter {

    /** What an exchange hears from its upstream connection. */
    public interface Listener {
        void upstreamRead(HttpObject msg);

        /**
         * The end of one read from the upstream socket, after its messages: the moment to flush
         * what they wrote to the client, so that one upstream read makes one client write.
         */
        default void upstreamReadComplete() {
        }

        void upstreamWritabilityChanged(boolean writable);

        void upstreamClosed(Throwable cause);
    }

    private Listener listener;
    private Throwable failure;

    public void attach(Listener listener) {
        this.listener = listener;
        this.failure = null;
    }

    void detach() {
        this.listener = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (listener != null && msg instanceof HttpObject http) {
            listener.upstreamRead(http);
        } else {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (listener != null) {
            listener.upstreamReadComplete();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (listener != null) {
            listener.upstreamWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failure = cause;
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Listener l = listener;
        listener = null;
        if (l != null) {
            l.upstreamClosed(failure);
        }
        ctx.fireChannelInactive();
    }
}
