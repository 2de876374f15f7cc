package io.tollgate.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The load generator's event loops (epoll where the kernel has it) and its connections. */
public final class LoadClient implements AutoCloseable {

    private final EventLoopGroup group;
    private final List<EventLoop> loops = new ArrayList<>();
    private final Bootstrap bootstrap;

    public LoadClient(int threads) {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("load", true), io);
        for (EventExecutor e : group) {
            loops.add((EventLoop) e);
        }
        Class<? extends Channel> channelClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        bootstrap = new Bootstrap()
                .channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
    }

    public List<EventLoop> loops() {
        return loops;
    }

    /** A connection bound to the {@code i}-th loop (round robin), not connected yet. */
    public LoadConnection connection(String host, int port, int i) {
        return new LoadConnection(bootstrap, new InetSocketAddress(host, port), loops.get(i % loops.size()));
    }

    /** {@code n} connections, all connected; fails if any cannot connect. */
    public List<LoadConnection> connect(String host, int port, int n) {
        List<LoadConnection> conns = new ArrayList<>(n);
        List<CompletableFuture<Void>> done = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            LoadConnection c = connection(host, port, i);
            conns.add(c);
            CompletableFuture<Void> f = new CompletableFuture<>();
            c.loop().execute(() -> {
                ChannelFuture cf = c.connect();
                cf.addListener(x -> {
                    if (x.isSuccess()) {
                        f.complete(null);
                    } else {
                        f.completeExceptionally(x.cause());
                    }
                });
            });
            done.add(f);
        }
        try {
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            closeAll(conns);
            throw new IllegalStateException("could not open " + n + " connections to " + host + ":" + port + ": " + e, e);
        }
        return conns;
    }

    public static void closeAll(List<LoadConnection> conns) {
        for (LoadConnection c : conns) {
            c.loop().execute(c::close);
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
