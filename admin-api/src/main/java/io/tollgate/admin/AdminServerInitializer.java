package io.tollgate.admin;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.util.concurrent.EventExecutorGroup;

/**
 * The admin pipeline, top to bottom: HTTP codec, keep-alive and 1 MB aggregation on the I/O loop;
 * then the admin token check and the router on the blocking group, since controllers call JDBC.
 * Both share one executor per connection, so a 401 can never overtake the answer to a request
 * pipelined before it.
 */
final class AdminServerInitializer extends ChannelInitializer<SocketChannel> {

    static final String CODEC = "codec";
    static final String KEEP_ALIVE = "keepAlive";
    static final String AGGREGATOR = "aggregator";
    static final String AUTH = "auth";
    static final String ROUTER = "router";

    static final int MAX_BODY_BYTES = 1024 * 1024;

    private final ChannelGroup connections;
    private final EventExecutorGroup blockingGroup;
    private final Json json;
    private final AdminAuthHandler auth;
    private final AdminRouterHandler router;

    AdminServerInitializer(ChannelGroup connections, EventExecutorGroup blockingGroup, Json json, AdminAuthHandler auth,
                           AdminRouterHandler router) {
        this.connections = connections;
        this.blockingGroup = blockingGroup;
        this.json = json;
        this.auth = auth;
        this.router = router;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        // Tracked so close() can end open keep-alive connections before stopping the threads.
        connections.add(ch);
        ChannelPipeline p = ch.pipeline();
        p.addLast(CODEC, new HttpServerCodec());
        p.addLast(KEEP_ALIVE, new HttpServerKeepAliveHandler());
        p.addLast(AGGREGATOR, new RequestAggregator(MAX_BODY_BYTES, json));
        p.addLast(blockingGroup, AUTH, auth);
        p.addLast(blockingGroup, ROUTER, router);
    }
}
