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
import java.util.concurrent.RejectedExecutionException;
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
 *
 * <p>While an upstream's connections are being reused, the pool keeps a few {@code spares} ahead:
 * when handing one out leaves fewer idle than that, it opens new ones in the background, so that
 * a rising load (traffic coming back after a pause, beyond what stayed idle) finds them connected
 * instead of each new request waiting for a connect of its own. A connect on a loaded proxy took
 * 0.6 to 3.5 ms in the bench, most of a slow stream's first byte. An upstream not reused for a
 * second gets no spares (one request now and then opens just its own connection), and after a
 * spare fails to connect no more are opened for a second.
 */
public final class UpstreamPool {

    public static final String CODEC = "codec";
    public static final String BACKEND = "backend";
    private static final AttributeKey<long[]> IDLE_SINCE = AttributeKey.valueOf("tollgate.idleSince");
    /** Spares are kept for an upstream that handed out an idle connection this recently. */
    private static final long WARM_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** After a spare failed to connect, none is opened for this long. */
    private static final long SPARE_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final EventLoop loop;
    private final Class<? extends Channel> channelClass;
    private final SslContext ssl;
    private final int connectTimeoutMillis;
    private final long idleNanos;
    private final int maxIdlePerTarget;
    private final int spares;
    private final Map<UpstreamTarget, Slot> slots = new HashMap<>();
    private ScheduledFuture<?> sweeper;

    private final AddressResolverGroup<InetSocketAddress> resolver;
    private final ChannelGroup open;

    /** One upstream address's connections on this loop. */
    private static final class Slot {
        final ArrayDeque<Channel> idle = new ArrayDeque<>();
        /** Spares being connected. */
        int connecting;
        /** When an idle connection was last handed out; 0: never. */
        long lastTaken;
        /** When a spare last failed to connect; 0: never. */
        long spareFailedAt;
    }

    /**
     * A pool without spares.
     *
     * @param resolver resolves upstream host names without blocking the loop (the JDK's resolver
     *                 would); shared by every pool
     */
    public UpstreamPool(EventLoop loop, Class<? extends Channel> channelClass, SslContext ssl,
                        AddressResolverGroup<InetSocketAddress> resolver,
                        Duration connectTimeout, Duration idleTimeout, int maxIdlePerTarget) {
        this(loop, channelClass, ssl, resolver, connectTimeout, idleTimeout, maxIdlePerTarget, 0, null);
    }

    /**
     * @param spares idle connections kept ahead for an upstream in use (at most {@code maxIdlePerTarget})
     * @param open   where each connection is kept until it closes, for shutdown; may be null
     */
    public UpstreamPool(EventLoop loop, Class<? extends Channel> channelClass, SslContext ssl,
                        AddressResolverGroup<InetSocketAddress> resolver,
                        Duration connectTimeout, Duration idleTimeout, int maxIdlePerTarget, int spares,
                        ChannelGroup open) {
        if (spares < 0) {
            throw new IllegalArgumentException("spares must not be negative: " + spares);
        }
        this.open = open;
        this.resolver = resolver;
        this.loop = loop;
        this.channelClass = channelClass;
        this.ssl = ssl;
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
        this.idleNanos = idleTimeout.toNanos();
        this.maxIdlePerTarget = maxIdlePerTarget;
        this.spares = Math.min(spares, maxIdlePerTarget);
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
        Slot slot = slots.get(target);
        if (slot == null) {
            return null;
        }
        Channel taken = null;
        while (!slot.idle.isEmpty()) {
            Channel ch = slot.idle.pollLast();   // most recently used first: the likeliest to be alive
            if (ch.isActive() && ch.pipeline().get(BackendHandler.class) != null) {
                taken = ch;
                break;
            }
            ch.close();
        }
        if (spares > 0) {
            long now = System.nanoTime();
            if (taken != null) {
                slot.lastTaken = now;
            }
            if (slot.lastTaken != 0 && now - slot.lastTaken < WARM_NANOS
                    && slot.idle.size() + slot.connecting < spares
                    && (slot.spareFailedAt == 0 || now - slot.spareFailedAt >= SPARE_BACKOFF_NANOS)) {
                // After this turn of the loop, not before the caller's request goes out.
                int more = spares - slot.idle.size() - slot.connecting;
                slot.connecting += more;
                try {
                    loop.execute(() -> openSpares(target, slot, more));
                } catch (RejectedExecutionException shuttingDown) {
                    slot.connecting -= more;             // no spares for a loop that is stopping
                }
            }
        }
        return taken;
    }

    private void openSpares(UpstreamTarget target, Slot slot, int count) {
        for (int i = 0; i < count; i++) {
            connect(target).addListener(f -> {
                slot.connecting--;
                Channel ch = (Channel) f.getNow();
                if (ch == null) {
                    slot.spareFailedAt = System.nanoTime();
                    return;
                }
                park(slot, ch);
            });
        }
    }

    /** Spares to {@code target} being connected now (tests). */
    int sparesConnecting(UpstreamTarget target) {
        assert loop.inEventLoop();
        Slot slot = slots.get(target);
        return slot == null ? 0 : slot.connecting;
    }

    /** Idle connections to {@code target} now (tests). */
    int idleCount(UpstreamTarget target) {
        assert loop.inEventLoop();
        Slot slot = slots.get(target);
        return slot == null ? 0 : slot.idle.size();
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
            Slot slot = slots.get(target);
            if (slot != null) {
                slot.idle.remove(fresh);
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
        park(slots.computeIfAbsent(target, t -> new Slot()), ch);
    }

    /** Keeps an open connection idle, within the limit, or closes it. */
    private void park(Slot slot, Channel ch) {
        ArrayDeque<Channel> q = slot.idle;
        if (q.size() >= maxIdlePerTarget || !ch.isActive()) {
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
        for (Slot slot : slots.values()) {
            ArrayDeque<Channel> q = slot.idle;
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
