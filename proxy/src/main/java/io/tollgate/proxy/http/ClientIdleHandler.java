package io.tollgate.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Fires an {@link IdleStateEvent} once a client connection has gone a whole period without a read
 * or a write: between one and two periods after its last activity. Netty's all-idle timer would
 * fire exactly one period after it, but watches writes through a listener on every write's
 * promise (a promise made for each, then notified); here a write only sets a flag, and the
 * reader-idle timer's event is dropped when anything was written since the last one.
 */
public final class ClientIdleHandler extends IdleStateHandler {

    private boolean wrote;

    public ClientIdleHandler(Duration period) {
        super(period.toNanos(), 0, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        wrote = true;
        ctx.write(msg, promise);
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) throws Exception {
        if (wrote) {
            wrote = false;                                  // answered within the period: not idle
            return;
        }
        super.channelIdle(ctx, evt);
    }
}
