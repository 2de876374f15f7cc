package io.tollgate.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tollgate.schema.Database;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** The admin REST API under /admin/v1: accounts, credits, keys, upstreams, models, the request log and usage. */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private static final int IO_THREADS = 2;
    /** JDBC runs here; more threads than pooled connections would only queue inside Hikari. */
    private static final int BLOCKING_THREADS = 16;
    private static final long SHUTDOWN_QUIET_MILLIS = 100;
    private static final long SHUTDOWN_TIMEOUT_MILLIS = 5_000;

    /**
     * @param adminToken    the bearer token every admin request must carry
     * @param tiers         account tiers accepted besides {@code pro} and {@code max}
     * @param maxActiveKeys how many active or paused keys one account may hold
     */
    public record Config(String host, int port, String adminToken, Set<String> tiers, int maxActiveKeys) {

        public static final Set<String> DEFAULT_TIERS = Set.of("pro", "max");
        public static final int DEFAULT_MAX_ACTIVE_KEYS = 3;

        public Config {
            if (adminToken == null || adminToken.isBlank()) {
                throw new IllegalArgumentException("the admin token must not be empty");
            }
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be in 0..65535, was " + port);
            }
            if (maxActiveKeys < 1) {
                throw new IllegalArgumentException("maxActiveKeys must be at least 1, was " + maxActiveKeys);
            }
            host = host == null || host.isBlank() ? "0.0.0.0" : host;
            Set<String> all = new LinkedHashSet<>(DEFAULT_TIERS);
            if (tiers != null) {
                all.addAll(tiers);
            }
            tiers = Set.copyOf(all);
        }

        public Config(String host, int port, String adminToken) {
            this(host, port, adminToken, DEFAULT_TIERS, DEFAULT_MAX_ACTIVE_KEYS);
        }

        public Config(String host, int port, String adminToken, Set<String> tiers) {
            this(host, port, adminToken, tiers, DEFAULT_MAX_ACTIVE_KEYS);
        }

        /** The token stays out of logs and stack traces. */
        @Override
        public String toString() {
            return "Config[host=" + host + ", port=" + port + ", adminToken=***, tiers=" + tiers
                    + ", maxActiveKeys=" + maxActiveKeys + "]";
        }
    }

    private final Channel serverChannel;
    private final ChannelGroup connections;
    private final EventLoopGroup ioGroup;
    private final EventExecutorGroup blockingGroup;
    private final AtomicBoolean closed = new AtomicBoolean();

    private AdminServer(Channel serverChannel, ChannelGroup connections, EventLoopGroup ioGroup,
                        EventExecutorGroup blockingGroup) {
        this.serverChannel = serverChannel;
        this.connections = connections;
        this.ioGroup = ioGroup;
        this.blockingGroup = blockingGroup;
    }

    public static AdminServer start(Config config, Database database) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(database, "database");
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        EventLoopGroup ioGroup = new MultiThreadIoEventLoopGroup(IO_THREADS, new DefaultThreadFactory("tollgate-admin-io"), io);
        EventExecutorGroup blockingGroup = new DefaultEventExecutorGroup(BLOCKING_THREADS,
                new DefaultThreadFactory("tollgate-admin-worker"));
        ChannelGroup connections = new DefaultChannelGroup("tollgate-admin-connections", GlobalEventExecutor.INSTANCE);
        try {
            Json json = new Json();
            AdminServerInitializer initializer = new AdminServerInitializer(connections, blockingGroup, json,
                    new AdminAuthHandler(config.adminToken(), json),
                    new AdminRouterHandler(AdminApi.router(config, database.dataSource()), json));
            Channel channel = new ServerBootstrap()
                    .group(ioGroup)
                    .channel(channelType)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childHandler(initializer)
                    .bind(config.host(), config.port())
                    .syncUninterruptibly()
                    .channel();
            AdminServer server = new AdminServer(channel, connections, ioGroup, blockingGroup);
            log.info("admin API listening on {}:{} ({})", config.host(), server.port(), epoll ? "epoll" : "nio");
            return server;
        } catch (RuntimeException e) {
            shutdown(ioGroup, blockingGroup);
            throw e;
        }
    }

    /** The port actually bound (useful with port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Stops accepting, closes open connections, then stops the threads. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            serverChannel.close().syncUninterruptibly();
            connections.close().awaitUninterruptibly();
            shutdown(ioGroup, blockingGroup);
        }
    }

    /**
     * Shuts both groups down together with a short quiet period: a closed channel's pipeline is torn
     * down by tasks hopping between the two, and neither group may refuse them while that happens.
     */
    private static void shutdown(EventLoopGroup ioGroup, EventExecutorGroup blockingGroup) {
        Future<?> io = ioGroup.shutdownGracefully(SHUTDOWN_QUIET_MILLIS, SHUTDOWN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        Future<?> blocking = blockingGroup.shutdownGracefully(SHUTDOWN_QUIET_MILLIS, SHUTDOWN_TIMEOUT_MILLIS,
                TimeUnit.MILLISECONDS);
        io.syncUninterruptibly();
        blocking.syncUninterruptibly();
    }
}
