package io.tollgate.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Answers 408 and closes when a client starts a request head but does not finish it in time
 * (slowloris). Sits before the decoder so it sees the first raw byte of each request; the
 * frontend disarms it when the decoded head arrives and re-arms it when its response ends.
 */
public final class RequestHeadTimeoutHandler extends ChannelDuplexHandler {

    private final long timeoutNanos;
    private boolean awaitingHead = true;
    /** A read of this read cycle brought bytes of a head still awaited. */
    private boolean headStarted;
    private ScheduledFuture<?> timer;

    public RequestHeadTimeoutHandler(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (awaitingHead && timer == null && msg instanceof ByteBuf buf && buf.isReadable()) {
            headStarted = true;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * The clock starts only if a read ends with a head begun and not yet whole: nearly every head
     * arrives in one read and is decoded within it, so no timer is scheduled and cancelled for it.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (headStarted) {
            headStarted = false;
            if (awaitingHead && timer == null) {
                timer = ctx.executor().schedule(() -> expire(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
            }
        }
        ctx.fireChannelReadComplete();
    }

    /** The decoded head arrived: the body and the answer have their own timeouts. */
    public void headReceived() {
        awaitingHead = false;
        headStarted = false;
        cancel();
    }

    /** The previous exchange is over: the next head's clock starts with its first byte. */
    public void awaitNextHead() {
        awaitingHead = true;
        cancel();
    }

    private void expire(ChannelHandlerContext ctx) {
        timer = null;
        if (!awaitingHead || !ctx.channel().isActive()) {
            return;
        }
        awaitingHead = false;
        FullHttpResponse response = ErrorResponses.of(ctx.alloc(), ApiError.REQUEST_TIMEOUT,
                "the request head was not received in time", RequestIds.next());
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.channel().writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }
}
