package io.tollgate.proxy;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.SelectStrategyFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.SingleThreadEventExecutor;

import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The socket layer the event loops run on, with the channel classes that can register with
 * them. Every channel a loop serves (clients, upstreams, Redis, DNS) must be of its transport.
 */
public enum Transport {
    /** Linux's io_uring: a loop pass submits its reads and writes together in one system call. */
    IO_URING(IoUring::isAvailable, IoUringIoHandler::newFactory, IoUringIoHandler.class,
            IoUringServerSocketChannel.class, IoUringSocketChannel.class, IoUringDatagramChannel.class),
    /** Linux's epoll, edge-triggered: one system call per read and per write. */
    EPOLL(Epoll::isAvailable, EpollIoHandler::newFactory, EpollIoHandler.class,
            EpollServerSocketChannel.class, EpollSocketChannel.class, EpollDatagramChannel.class),
    /** The JDK's selector: everywhere. */
    NIO(() -> true, NioIoHandler::newFactory, NioIoHandler.class,
            NioServerSocketChannel.class, NioSocketChannel.class, NioDatagramChannel.class);

    private final BooleanSupplier available;
    private final Supplier<IoHandlerFactory> ioHandlerFactory;
    private final Class<? extends IoHandler> ioHandler;
    private final Class<? extends ServerSocketChannel> serverChannel;
    private final Class<? extends SocketChannel> socketChannel;
    private final Class<? extends DatagramChannel> datagramChannel;

    Transport(BooleanSupplier available, Supplier<IoHandlerFactory> ioHandlerFactory, Class<? extends IoHandler> ioHandler,
              Class<? extends ServerSocketChannel> serverChannel, Class<? extends SocketChannel> socketChannel,
              Class<? extends DatagramChannel> datagramChannel) {
        this.available = available;
        this.ioHandlerFactory = ioHandlerFactory;
        this.ioHandler = ioHandler;
        this.serverChannel = serverChannel;
        this.socketChannel = socketChannel;
        this.datagramChannel = datagramChannel;
    }

    /** The configuration name that picks {@link #auto()}. */
    public static final String AUTO = "auto";

    /** The names {@link #named} takes, for messages. */
    public static final String CHOICES = "auto, io_uring, epoll or nio";

    /** Whether this kernel and platform can run it. */
    public boolean available() {
        return available.getAsBoolean();
    }

    public IoHandlerFactory ioHandlerFactory() {
        return ioHandlerFactory.get();
    }

    /** Whether its loops can poll before they sleep ({@link #ioHandlerFactory(Duration)}): epoll and NIO. */
    public boolean busyPolls() {
        return this != IO_URING;
    }

    /**
     * Loops that poll for ready channels for {@code busyPoll} after their last work before they
     * sleep ({@link BusyPollStrategy}); zero is {@link #ioHandlerFactory()}.
     *
     * @throws IllegalArgumentException for a negative poll, or a positive one on io_uring, whose
     *                                  loops wait in the ring and take no select strategy
     */
    public IoHandlerFactory ioHandlerFactory(Duration busyPoll) {
        if (busyPoll.isNegative()) {
            throw new IllegalArgumentException("busy poll must not be negative: " + busyPoll);
        }
        if (busyPoll.isZero()) {
            return ioHandlerFactory();
        }
        if (!busyPolls()) {
            throw new IllegalArgumentException("busy polling needs the epoll or nio transport, not " + configName());
        }
        long nanos = busyPoll.toNanos();
        return executor -> {
            // The loop itself, so that a task queued from another thread ends the poll.
            java.util.function.IntSupplier queued = executor instanceof SingleThreadEventExecutor loop
                    ? loop::pendingTasks : () -> 0;
            SelectStrategyFactory strategy = () -> new BusyPollStrategy(nanos, queued);
            IoHandlerFactory plain = this == EPOLL ? EpollIoHandler.newFactory(0, strategy)
                    : NioIoHandler.newFactory(SelectorProvider.provider(), strategy);
            return plain.newHandler(executor);
        };
    }

    public Class<? extends ServerSocketChannel> serverChannel() {
        return serverChannel;
    }

    public Class<? extends SocketChannel> socketChannel() {
        return socketChannel;
    }

    public Class<? extends DatagramChannel> datagramChannel() {
        return datagramChannel;
    }

    /** A DNS resolver for bootstraps on this transport's loops: its channels register with them. */
    public DnsAddressResolverGroup newDnsResolverGroup() {
        return new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(datagramChannel)
                .socketChannelType(socketChannel));
    }

    /** Its name in configuration: {@code io_uring}, {@code epoll}, {@code nio}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The default here: epoll, else NIO; io_uring by name. Beside epoll in the same rounds of the
     * bench (five A/Bs, 2026-12-07), io_uring used a fifth to a third less CPU a request and carried
     * 1.04-1.55x its saturation, and its known leak (a pending read's buffer lost when its loop
     * shuts down under an open channel) is avoided by {@code ProxyServer} closing every connection
     * first. But its p99 was worse at 5k req/s in three of them and at 1k and 2k in a fourth, once
     * it stalled a measured slice for 218 ms, and under a steady load Netty's io_uring loop runs its
     * tasks and timers only when a pass finds no completion (15-60 ms late at saturation); so the
     * default stays on epoll. The runs are in docs/performance-history.md.
     */
    public static Transport auto() {
        return EPOLL.available() ? EPOLL : NIO;
    }

    /**
     * The transport whose event loops {@code group} runs, so that a channel registered with it
     * is of the right kind.
     *
     * @throws IllegalArgumentException if {@code group} runs none of them
     */
    public static Transport of(EventLoopGroup group) {
        if (group instanceof IoEventLoopGroup io) {
            for (Transport t : values()) {
                if (io.isIoType(t.ioHandler)) {
                    return t;
                }
            }
        }
        throw new IllegalArgumentException("not an event loop group of a known transport: " + group.getClass().getName());
    }

    /**
     * The transport named {@code name} ({@code auto} or any {@link #configName()}).
     *
     * @throws IllegalArgumentException if the name is unknown or the transport cannot run here
     */
    public static Transport named(String name) {
        if (!known(name)) {
            throw new IllegalArgumentException("unknown transport '" + name + "' (" + CHOICES + ")");
        }
        String key = key(name);
        if (key.equals(AUTO)) {
            return auto();
        }
        Transport t = valueOf(key.toUpperCase(Locale.ROOT));
        if (!t.available()) {
            throw new IllegalArgumentException("transport " + t.configName() + " is not available here: "
                    + t.unavailabilityCause());
        }
        return t;
    }

    /** Whether {@code name} is {@code auto} or a transport's {@link #configName()}, whatever this machine has. */
    public static boolean known(String name) {
        if (name == null) {
            return false;
        }
        String key = key(name);
        if (key.equals(AUTO)) {
            return true;
        }
        for (Transport t : values()) {
            if (t.configName().equals(key)) {
                return true;
            }
        }
        return false;
    }

    private static String key(String name) {
        return name.trim().toLowerCase(Locale.ROOT);
    }

    private String unavailabilityCause() {
        Throwable cause = switch (this) {
            case IO_URING -> IoUring.unavailabilityCause();
            case EPOLL -> Epoll.unavailabilityCause();
            case NIO -> null;
        };
        return cause == null ? "unknown" : cause.toString();
    }
}
