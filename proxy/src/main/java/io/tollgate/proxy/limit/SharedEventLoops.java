package io.tollgate.proxy.limit;

import io.lettuce.core.resource.EventLoopGroupProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;

import java.util.concurrent.TimeUnit;

/**
 * Lends the proxy's own event loops to Lettuce, so the Redis connection lives on one of them.
 * A limiter call made on that loop then writes to Redis and gets its answer on the same thread:
 * no hand-over to a Lettuce thread and back, which on a proxy with one core cost a thread wake-up
 * each way per request. Lettuce never shuts these loops down; the proxy does.
 */
final class SharedEventLoops implements EventLoopGroupProvider {

    private final EventLoopGroup group;
    private final int size;

    SharedEventLoops(EventLoopGroup group) {
        this.group = group;
        int n = 0;
        for (EventExecutor ignored : group) {
            n++;
        }
        this.size = n;
    }

    @Override
    public <T extends EventLoopGroup> T allocate(Class<T> type) {
        if (!type.isInstance(group)) {
            throw new IllegalStateException("Lettuce asked for a " + type.getName() + " but the proxy's loops are a "
                    + group.getClass().getName());
        }
        return type.cast(group);
    }

    @Override
    public int threadPoolSize() {
        return size;
    }

    @Override
    public Future<Boolean> release(EventExecutorGroup eventLoopGroup, long quietPeriod, long timeout, TimeUnit unit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }

    @Override
    public Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit unit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }
}
