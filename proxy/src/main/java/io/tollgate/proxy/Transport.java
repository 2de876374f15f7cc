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

    /**
     * Netty's switch for multishot polls on io_uring, read once when its {@code IoUring} class
     * loads. Unless the JVM's options set it, it is turned off here, before any loop or channel
     * of this project exists: with them, the bench's io_uring runs stalled requests for 30-160 ms
     * at times (2026-12-06 and 07); without them, in four chat runs, none did, at the same throughput.
     */
    public static final String MULTISHOT_POLLS = "io.netty.iouring.pollAddMultishotEnabled";

    static {
        if (System.getProperty(MULTISHOT_POLLS) == null) {
            System.setProperty(MULTISHOT_POLLS, "false");
        }
    }

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
     * The default here: io_uring, else epoll, else NIO. In four chat A/Bs against epoll in the
     * same rounds of the bench (2026-12-07), io_uring carried 1.04-1.55x epoll's saturation at a
     * fifth less CPU a request, and in two SSE A/Bs its first-byte p99 was 0.9-1.3 ms lower. Its
     * runs with Netty's multishot polls stalled requests for 30-160 ms at times, which is why they
     * are off here ({@link #MULTISHOT_POLLS}); without them its p99 at 1k and 2k req/s was lower
     * than epoll's in both A/Bs, and no run stalled. Where the kernel or a container's seccomp
     * profile refuses io_uring, {@link IoUring#isAvailable()} says so and epoll is taken.
     */
    public static Transport auto() {
        return IO_URING.available() ? IO_URING : EPOLL.available() ? EPOLL : NIO;
    }

    /**
     * {@link #auto()} for loops that poll {@code busyPoll} before they sleep: with a poll, the
     * best transport that can poll (epoll, else NIO), since io_uring's loops wait in their ring.
     */
    public static Transport auto(Duration busyPoll) {
        if (busyPoll.isPositive()) {
            return EPOLL.available() ? EPOLL : NIO;
        }
        return auto();
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
        return named(name, Duration.ZERO);
    }

    /**
     * The transport named {@code name} for loops that poll {@code busyPoll} before they sleep:
     * {@code auto} then picks one that can poll ({@link #auto(Duration)}).
     *
     * @throws IllegalArgumentException if the name is unknown or the transport cannot run here
     */
    public static Transport named(String name, Duration busyPoll) {
        if (!known(name)) {
            throw new IllegalArgumentException("unknown transport '" + name + "' (" + CHOICES + ")");
        }
        String key = key(name);
        if (key.equals(AUTO)) {
            return auto(busyPoll);
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
