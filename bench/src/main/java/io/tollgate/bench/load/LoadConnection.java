package io.tollgate.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;

import java.net.InetSocketAddress;

/**
 * One keep-alive HTTP/1.1 connection of the load generator, bound to one event loop for life:
 * one request at a time (no pipelining), reconnecting when the server closed it. Every method
 * runs on {@link #loop()}.
 */
public final class LoadConnection implements HttpResponseParser.Listener {

    private final Bootstrap bootstrap;
    private final InetSocketAddress address;
    private final EventLoop loop;
    private final HttpResponseParser parser = new HttpResponseParser(this);
    private final SseScanner sse = new SseScanner();
    private Channel channel;
    private Exchange exchange;
    private boolean scanEvents;
    private long readNanos;
    private int reconnects;

    LoadConnection(Bootstrap bootstrap, InetSocketAddress address, EventLoop loop) {
        this.bootstrap = bootstrap;
        this.address = address;
        this.loop = loop;
    }

    public EventLoop loop() {
        return loop;
    }

    /** Connects (again); the future completes on the loop. */
    ChannelFuture connect() {
        Handler handler = new Handler();
        ChannelFuture f = bootstrap.clone().group(loop).handler(handler).connect(address);
        channel = f.channel();
        return f;
    }

    boolean busy() {
        return exchange != null;
    }

    int reconnects() {
        return reconnects;
    }

    /** Sends {@code request}; {@code exchange} hears how it goes. Reconnects first if need be. */
    void send(Request request, Exchange exchange) {
        if (this.exchange != null) {
            throw new IllegalStateException("one request at a time");
        }
        this.exchange = exchange;
        this.scanEvents = request.sse();
        sse.reset();
        if (channel != null && channel.isActive()) {
            channel.writeAndFlush(request.forSend(), channel.voidPromise());
            return;
        }
        reconnects++;
        connect().addListener(f -> {
            if (f.isSuccess()) {
                channel.writeAndFlush(request.forSend(), channel.voidPromise());
            } else {
                fail("connect failed: " + f.cause());
            }
        });
    }

    /** Drops the connection, failing what is in flight. */
    public void close() {
        if (channel != null) {
            channel.close();
        }
    }

    @Override
    public void onHead(int status) {
        sse.reset();
    }

    @Override
    public void onBody(ByteBuf buf, int index, int length) {
        if (scanEvents && exchange != null) {
            int events = sse.scan(buf, index, length);
            for (int i = 0; i < events; i++) {
                exchange.onEvent(readNanos);
            }
        }
    }

    @Override
    public void onComplete(int status, boolean keepAlive) {
        Exchange e = exchange;
        exchange = null;
        if (!keepAlive && channel != null) {
            channel.close();
        }
        if (e != null) {
            e.onComplete(status, readNanos);
        }
    }

    private void fail(String why) {
        Exchange e = exchange;
        exchange = null;
        if (e != null) {
            e.onFailed(why, System.nanoTime());
        }
    }

    private final class Handler extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (ctx.channel() != channel) {
                    return;                                   // a late read of a replaced channel
                }
                readNanos = System.nanoTime();
                if (!parser.inMessage() && exchange != null) {
                    exchange.onFirstByte(readNanos);
                }
                parser.feed(buf);
            } catch (HttpResponseParser.ParseException e) {
                ctx.close();
                fail("unparsable response: " + e.getMessage());
            } finally {
                buf.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() == channel) {
                readNanos = System.nanoTime();
                boolean cut = parser.closed();
                parser.reset();
                if (cut || exchange != null) {
                    fail("connection closed mid-response");
                }
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
