package io.tollgate.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocal;
import io.tollgate.proxy.Transport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * A plain HTTP/1.1 reverse proxy on Netty, no feature at all: the bench's {@code netty} contender,
 * the floor of the stack Tollgate is built on. It does what the nginx contender is configured to
 * do (keep-alive on both sides, bodies streamed through unbuffered, each answer's parts flushed as
 * they come) with Netty's own HTTP codecs, one pool of idle upstream connections per event loop,
 * and back-pressure both ways. Like the bench's clients, it takes one request at a time on a
 * connection (no pipelining). Between nginx and Tollgate in a report, it splits Tollgate's cost
 * into what the JVM and Netty take for relaying at all and what Tollgate's features add.
 *
 * <pre>
 *   java -cp bench/target/tollgate-bench.jar io.tollgate.bench.NettyRelayMain --upstream http://127.0.0.1:9999
 * </pre>
 * It prints {@code netty-relay ready port=N pid=P} once it listens.
 */
@Command(name = "netty-relay", mixinStandardHelpOptions = true,
        description = "Relays HTTP/1.1 to one upstream with Netty alone, until killed (the bench's floor of the stack).")
public final class NettyRelayMain implements Callable<Integer> {

    @Option(names = "--upstream", required = true, description = "the upstream's base URL (http://127.0.0.1:9999)")
    String upstream;

    @Option(names = "--host", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Option(names = "--port", description = "port to bind, 0 for any (default: ${DEFAULT-VALUE})")
    int port = 0;

    @Option(names = "--io-threads", description = "event loops (default: ${DEFAULT-VALUE})")
    int ioThreads = 1;

    @Option(names = "--transport", description = Transport.CHOICES + ", as Tollgate's proxy.transport (default: ${DEFAULT-VALUE})")
    String transport = "auto";

    @Option(names = "--busy-poll-us", description = "how long a loop polls before it sleeps, as Tollgate's "
            + "proxy.busy_poll_us (default: ${DEFAULT-VALUE})")
    int busyPollMicros = 0;

    public static void main(String[] args) {
        int exit = new CommandLine(new NettyRelayMain()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        URI uri = URI.create(upstream);
        InetSocketAddress target = new InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort());
        Transport io = Transport.named(transport);
        EventLoopGroup loops = loops(io, ioThreads, Duration.of(busyPollMicros, ChronoUnit.MICROS));
        Channel server = listen(io, loops, host, port, target);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close().syncUninterruptibly();
            loops.shutdownGracefully().syncUninterruptibly();
            stopped.countDown();
        }));
        System.out.println("netty-relay ready port=" + ((InetSocketAddress) server.localAddress()).getPort()
                + " pid=" + ProcessHandle.current().pid() + " transport=" + io.configName());
        stopped.await();
        return 0;
    }

    /** Event loops of {@code transport}, for {@link #listen}. */
    static EventLoopGroup loops(Transport transport, int threads, Duration busyPoll) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("relay"),
                transport.ioHandlerFactory(busyPoll));
    }

    /** Listens on {@code host:port} (0: any) on {@code loops} (from {@link #loops}), relaying to {@code target}. */
    static Channel listen(Transport transport, EventLoopGroup loops, String host, int port, InetSocketAddress target)
            throws InterruptedException {
        Upstreams upstreams = new Upstreams(target, transport.socketChannel());
        return new ServerBootstrap()
                .group(loops)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new Frontend(upstreams));
                    }
                })
                .bind(host, port).sync().channel();
    }

    /** Idle keep-alive connections to the upstream, a pool per event loop (so never shared across threads). */
    static final class Upstreams {
        private final InetSocketAddress target;
        private final Class<? extends Channel> channelClass;
        private final FastThreadLocal<ArrayDeque<Channel>> idle = new FastThreadLocal<>() {
            @Override
            protected ArrayDeque<Channel> initialValue() {
                return new ArrayDeque<>();
            }
        };

        Upstreams(InetSocketAddress target, Class<? extends Channel> channelClass) {
            this.target = target;
            this.channelClass = channelClass;
        }

        /** An idle connection of {@code loop}'s, or a new one; called on {@code loop}. */
        ChannelFuture acquire(EventLoop loop) {
            Channel ch;
            while ((ch = idle.get().pollLast()) != null) {
                if (ch.isActive()) {
                    return ch.newSucceededFuture();
                }
            }
            return new Bootstrap().group(loop).channel(channelClass)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new HttpClientCodec(), new Backend());
                        }
                    })
                    .connect(target);
        }

        /** Called on the connection's own loop, the one it was acquired on. */
        void release(Channel ch) {
            idle.get().addLast(ch);
        }
    }

    /** One client connection: each request goes to a pooled upstream connection, its answer comes back. */
    static final class Frontend extends ChannelInboundHandlerAdapter {
        private final Upstreams upstreams;
        private ChannelHandlerContext ctx;
        private Channel up;
        private Backend backend;                              // up's
        /** Parts of the request read before its upstream connection is there. */
        private List<Object> waiting;
        private boolean keepAlive;

        Frontend(Upstreams upstreams) {
            this.upstreams = upstreams;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                keepAlive = HttpUtil.isKeepAlive(request);
                waiting = new ArrayList<>(2);
                waiting.add(msg);
                upstreams.acquire(ctx.channel().eventLoop()).addListener((ChannelFuture f) -> connected(f));
                return;
            }
            if (waiting != null) {
                waiting.add(msg);
            } else if (up != null) {
                forward(msg);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        private void connected(ChannelFuture f) {
            List<Object> parts = waiting;
            waiting = null;
            if (parts == null) {                                 // the client left meanwhile: nothing was sent
                if (f.isSuccess()) {
                    upstreams.release(f.channel());
                }
                return;
            }
            if (!f.isSuccess()) {
                parts.forEach(ReferenceCountUtil::release);
                ctx.close();
                return;
            }
            up = f.channel();
            backend = up.pipeline().get(Backend.class);
            backend.frontend = this;
            for (Object part : parts) {
                forward(part);
            }
            up.read();
        }

        private void forward(Object part) {
            up.write(part);
            if (!up.isWritable() || part instanceof LastHttpContent) {
                up.flush();
            }
            // Asked again: the flush may have drained it, and its writability event, fired inside
            // the flush, would find reading still on and this would then turn it off for good.
            if (!up.isWritable()) {
                ctx.channel().config().setAutoRead(false);   // the upstream's writability change turns it back on
            }
        }

        /** A part of the answer: passed on and flushed, so that streams flow as the upstream sends them. */
        void answer(HttpObject part) {
            boolean last = part instanceof LastHttpContent;
            if (part instanceof HttpResponse response && !keepAlive) {
                HttpUtil.setKeepAlive(response, false);
            }
            ctx.writeAndFlush(part);
            if (last) {
                backend.frontend = null;
                upstreams.release(up);
                up = null;
                backend = null;
                if (!keepAlive) {
                    ctx.close();
                }
            } else if (ctx.channel().isWritable()) {
                up.read();
            }
        }

        void upstreamWritable() {
            ctx.channel().config().setAutoRead(true);
        }

        void upstreamLost() {
            ctx.close();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && up != null) {
                up.read();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (up != null) {
                up.close();                                      // mid-answer: the connection is not reusable
                up = null;
                backend = null;
            }
            if (waiting != null) {
                waiting.forEach(ReferenceCountUtil::release);
                waiting = null;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The upstream side of a pooled connection: hands the answer to the client it currently serves. */
    static final class Backend extends ChannelInboundHandlerAdapter {
        Frontend frontend;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (frontend == null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            frontend.answer((HttpObject) msg);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && frontend != null) {
                frontend.upstreamWritable();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (frontend != null) {
                frontend.upstreamLost();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
