package io.tollgate.proxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive upstream connections of one event loop, per upstream address. Every exchange's
 * upstream channel lives on its client's loop, so this pool is plain fields with no locks, and
 * a connection is only ever touched by one thread.
 *
 * <p>Idle connections are closed by one sweep per loop, every second (or every quarter of a
 * shorter idle timeout), not by a timer per release: scheduling and cancelling a timer for every
 * request was the pool's main cost. A connection is closed up to one sweep period after its idle
 * timeout.
 */
public final class UpstreamPool {

    public static final String CODEC = "codec";
    public static final String BACKEND = "backend";
    private static final AttributeKey<long[]> IDLE_SINCE = AttributeKey.valueOf("tollgate.idleSince");

    private final EventLoop loop;
    private final Class<? extends Channel> channelClass;
    private final SslContext ssl;
    private final int connectTimeoutMillis;
    private final long idleNanos;
    private final int maxIdlePerTarget;
    private final Map<UpstreamTarget, ArrayDeque<Channel>> idle = new HashMap<>();
    private ScheduledFuture<?> sweeper;

    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final ChannelGroup open;

    /**
     * @param resolver resolves upstream host names without blocking the loop (the JDK's resolver
     *                 would); shared by every pool
     */
    public UpstreamPool(EventLoop loop, Class<? extends Channel> channelClass, SslContext ssl,
                        AddressResolverGroup<InetSocketAddress> resolver,
                        Duration connectTimeout, Duration idleTimeout, int maxIdlePerTarget) {
        this(loop, channelClass, ssl, resolver, connectTimeout, idleTimeout, maxIdlePerTarget, null);
    }

    /** @param open where each connection is kept until it closes, for shutdown; may be null */
    public UpstreamPool(EventLoop loop, Class<? extends Channel> channelClass, SslContext ssl,
                        AddressResolverGroup<InetSocketAddress> resolver,
                        Duration connectTimeout, Duration idleTimeout, int maxIdlePerTarget, ChannelGroup open) {
        this.open = open;
        this.resolver = resolver;
        this.loop = loop;
        this.channelClass = channelClass;
        this.ssl = ssl;
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
        this.idleNanos = idleTimeout.toNanos();
        this.maxIdlePerTarget = maxIdlePerTarget;
    }

    /**
     * A connection to {@code target} whose pipeline ends in a {@link BackendHandler}: an idle one
     * that is still open, or a new one. Must be called on this pool's loop.
     */
    public Future<Channel> acquire(UpstreamTarget target) {
        Channel ch = pollIdle(target);
        return ch != null ? loop.newSucceededFuture(ch) : connect(target);
    }

    /**
     * An idle connection to {@code target} that is still open, or null: {@link #acquire} without a
     * future, for the caller that goes on at once (most requests find one). Must be called on this
     * pool's loop.
     */
    public Channel pollIdle(UpstreamTarget target) {
        assert loop.inEventLoop();
        ArrayDeque<Channel> q = idle.get(target);
        while (q != null && !q.isEmpty()) {
            Channel ch = q.pollLast();       // most recently used first: the likeliest to be alive
            if (ch.isActive() && ch.pipeline().get(BackendHandler.class) != null) {
                return ch;
            }
            ch.close();
        }
        return null;
    }

    /** A new connection to {@code target}. */
    public Future<Channel> connect(UpstreamTarget target) {
        assert loop.inEventLoop();
        Promise<Channel> promise = loop.newPromise();
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .resolver(resolver)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        if (target.tls()) {
                            p.addLast("tls", ssl.newHandler(ch.alloc(), target.host(), target.port()));
                        }
                        p.addLast(CODEC, new HttpClientCodec(4096, 16 * 1024, 64 * 1024));
                        p.addLast(BACKEND, new BackendHandler());
                    }
                });
        ChannelFuture connect = b.connect(target.host(), target.port());
        // Once per connection: a closed idle connection leaves its queue.
        Channel fresh = connect.channel();
        if (open != null) {
            open.add(fresh);
        }
        fresh.closeFuture().addListener(f -> {
            ArrayDeque<Channel> waiting = idle.get(target);
            if (waiting != null) {
                waiting.remove(fresh);
            }
        });
        connect.addListener(f -> {
            if (f.isSuccess()) {
                promise.trySuccess(connect.channel());
            } else {
                promise.tryFailure(f.cause());
            }
        });
        return promise;
    }

    /**
     * Gives back a connection whose last exchange finished cleanly (request sent whole, response
     * read whole, keep-alive). Anything else must be closed by the caller, never pooled.
     */
    public void release(UpstreamTarget target, Channel ch) {
        assert loop.inEventLoop();
        ch.pipeline().get(BackendHandler.class).detach();
        if (!ch.isActive()) {
            return;
        }
        ArrayDeque<Channel> q = idle.computeIfAbsent(target, t -> new ArrayDeque<>());
        if (q.size() >= maxIdlePerTarget) {
            ch.close();
            return;
        }
        long[] since = ch.attr(IDLE_SINCE).get();
        if (since == null) {
            since = new long[1];                 // once per connection
            ch.attr(IDLE_SINCE).set(since);
        }
        since[0] = System.nanoTime();
        q.addLast(ch);
        if (sweeper == null) {
            long period = Math.max(1, Math.min(idleNanos / 4, TimeUnit.SECONDS.toNanos(1)));
            sweeper = loop.scheduleAtFixedRate(this::closeIdle, period, period, TimeUnit.NANOSECONDS);
        }
    }

    /** Closes the connections idle for longer than the idle timeout; the oldest are at each queue's head. */
    private void closeIdle() {
        long now = System.nanoTime();
        for (ArrayDeque<Channel> q : idle.values()) {
            Channel oldest;
            while ((oldest = q.peekFirst()) != null) {
                long[] since = oldest.attr(IDLE_SINCE).get();
                if (since != null && now - since[0] < idleNanos) {
                    break;
                }
                q.pollFirst();
                oldest.close();
            }
        }
    }
}
