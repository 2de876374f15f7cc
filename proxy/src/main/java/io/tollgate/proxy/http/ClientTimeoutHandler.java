package io.tollgate.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.timeout.IdleStateEvent;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The client connection's two clocks, at the head of the pipeline where it sees every raw read
 * and every write:
 * <ul>
 *   <li><b>The request head.</b> A client that starts a head but does not finish it in time
 *       (slowloris) is answered 408 and closed. The frontend disarms the clock when the decoded
 *       head arrives ({@link #headReceived}) and re-arms it when its response ends
 *       ({@link #awaitNextHead}); the next head's clock starts with its first byte.</li>
 *   <li><b>Idleness.</b> Once a whole period has gone without a read or a write, an
 *       {@link IdleStateEvent} goes up the pipeline, and again every period while it stays so:
 *       between one and two periods after the last activity. A read or a write only sets a flag
 *       that a check once a period clears; no clock is read or promise made per message.</li>
 * </ul>
 * One handler for both, not one each: every message of every connection passes one pipeline
 * context fewer (a cache miss on each, the most of a context's cost).
 */
public final class ClientTimeoutHandler extends ChannelDuplexHandler {

    private final long headNanos;
    private final long idleNanos;

    private boolean awaitingHead = true;
    /** A read of this read cycle brought bytes of a head still awaited. */
    private boolean headStarted;
    private ScheduledFuture<?> headTimer;

    /** Something was read or written since the last idle check. */
    private boolean busy;
    private ScheduledFuture<?> idleCheck;
    private boolean firstIdle = true;
    private boolean removed;

    public ClientTimeoutHandler(Duration headTimeout, Duration idlePeriod) {
        this.headNanos = headTimeout.toNanos();
        this.idleNanos = idlePeriod.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            startIdleChecks(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        startIdleChecks(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        busy = true;
        if (awaitingHead && headTimer == null && msg instanceof ByteBuf buf && buf.isReadable()) {
            headStarted = true;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * The head's clock starts only if a read ends with a head begun and not yet whole: nearly
     * every head arrives in one read and is decoded within it, so no timer is scheduled and
     * cancelled for it.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (headStarted) {
            headStarted = false;
            if (awaitingHead && headTimer == null) {
                headTimer = ctx.executor().schedule(() -> headExpired(ctx), headNanos, TimeUnit.NANOSECONDS);
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        busy = true;
        ctx.write(msg, promise);
    }

    /** The decoded head arrived: the body and the answer have their own timeouts. */
    public void headReceived() {
        awaitingHead = false;
        headStarted = false;
        cancelHeadTimer();
    }

    /** The previous exchange is over: the next head's clock starts with its first byte. */
    public void awaitNextHead() {
        awaitingHead = true;
        cancelHeadTimer();
    }

    private void headExpired(ChannelHandlerContext ctx) {
        headTimer = null;
        if (!awaitingHead || !ctx.channel().isActive()) {
            return;
        }
        awaitingHead = false;
        FullHttpResponse response = ErrorResponses.of(ctx.alloc(), ApiError.REQUEST_TIMEOUT,
                "the request head was not received in time", RequestIds.next());
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.channel().writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private void startIdleChecks(ChannelHandlerContext ctx) {
        if (idleCheck == null && !removed) {
            idleCheck = ctx.executor().schedule(() -> idleCheck(ctx), idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void idleCheck(ChannelHandlerContext ctx) {
        if (removed || !ctx.channel().isOpen()) {
            return;
        }
        idleCheck = ctx.executor().schedule(() -> idleCheck(ctx), idleNanos, TimeUnit.NANOSECONDS);
        if (busy) {
            busy = false;
            firstIdle = true;
            return;
        }
        IdleStateEvent event = firstIdle ? IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT : IdleStateEvent.ALL_IDLE_STATE_EVENT;
        firstIdle = false;
        ctx.fireUserEventTriggered(event);
    }

    private void cancelHeadTimer() {
        if (headTimer != null) {
            headTimer.cancel(false);
            headTimer = null;
        }
    }

    private void stop() {
        removed = true;
        cancelHeadTimer();
        if (idleCheck != null) {
            idleCheck.cancel(false);
            idleCheck = null;
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }
}
