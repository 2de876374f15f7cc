package io.tollgate.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A provider that fails every chat request the same way, on a real loopback socket: it reads the
 * whole request, as a provider does before it finds it cannot serve it, then answers an
 * OpenAI-style error with a fixed status, or resets the connection without a response byte; or,
 * like a proxy in front of a provider that is down, it answers as soon as the head is in and
 * closes without waiting for the body.
 */
final class FailingUpstream implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private final AtomicInteger heads = new AtomicInteger();

    private FailingUpstream(int status, boolean early) {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (early) {
                            ch.pipeline().addLast(new HttpServerCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                    if (msg instanceof HttpRequest) {
                                        heads.incrementAndGet();
                                        FullHttpResponse r = error(status);
                                        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                                        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                                    }
                                }
                            });
                            return;
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1024 * 1024),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                                        heads.incrementAndGet();
                                        bodies.add(request.content().toString(StandardCharsets.UTF_8));
                                        if (status == 0) {
                                            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                                            ctx.close();                     // RST, not FIN: a crashed provider
                                        } else {
                                            ctx.writeAndFlush(error(status));
                                        }
                                    }
                                });
                    }
                })
                .bind("127.0.0.1", 0)
                .syncUninterruptibly()
                .channel();
    }

    /** Answers every request with {@code status} and an error body, keeping the connection. */
    static FailingUpstream answering(int status) {
        return new FailingUpstream(status, false);
    }

    /** Answers {@code status} and closes as soon as a request head is in, reading no body. */
    static FailingUpstream answeringEarly(int status) {
        return new FailingUpstream(status, true);
    }

    /** Resets the connection once a request is in, before any response byte. */
    static FailingUpstream resetting() {
        return new FailingUpstream(0, false);
    }

    private static FullHttpResponse error(int status) {
        ByteBuf body = Unpooled.copiedBuffer("{\"error\":{\"message\":\"failing on purpose\",\"type\":\"server_error\","
                + "\"code\":\"failing_" + status + "\"}}", StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), body);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return r;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort() + "/v1";
    }

    /** Request heads received. */
    int heads() {
        return heads.get();
    }

    /** The body of every request received whole, oldest first. */
    List<String> bodies() {
        return bodies;
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
