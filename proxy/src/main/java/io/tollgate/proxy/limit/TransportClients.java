package io.tollgate.proxy.limit;

import io.lettuce.core.ConnectionBuilder;
import io.lettuce.core.ConnectionEvents;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.resource.ClientResources;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.BootstrapConfig;
import io.netty.channel.ChannelOption;
import io.netty.util.AttributeKey;
import io.tollgate.proxy.Transport;
import reactor.core.publisher.Mono;

import java.net.SocketAddress;
import java.util.Map;

/**
 * Lettuce clients whose connections are channels of a given {@link Transport}. Lettuce chooses its
 * channel class by itself (epoll whenever it is there, before io_uring) and sets it on the
 * bootstrap, which takes it only once; on the proxy's loops, when they run io_uring or NIO, such a
 * channel could not register. So after Lettuce has configured a connection's bootstrap, it is
 * replaced by a copy with the transport's channel class: the same loops, options, attributes and
 * resolver.
 */
final class TransportClients {

    private TransportClients() {
    }

    /** A standalone client; connect it with the URI of each call. */
    static RedisClient standalone(ClientResources resources, Transport transport) {
        return new Standalone(resources, transport);
    }

    static RedisClusterClient cluster(ClientResources resources, Iterable<RedisURI> uris, Transport transport) {
        return new Cluster(resources, uris, transport);
    }

    /** {@code builder}'s bootstrap as Lettuce configured it, but making {@code transport}'s channels. */
    static void rebind(ConnectionBuilder builder, Transport transport) {
        BootstrapConfig configured = builder.bootstrap().config();
        Bootstrap copy = new Bootstrap()
                .group(configured.group())
                .channel(transport.socketChannel())
                .resolver(configured.resolver());
        for (Map.Entry<ChannelOption<?>, Object> option : configured.options().entrySet()) {
            setOption(copy, option.getKey(), option.getValue());
        }
        for (Map.Entry<AttributeKey<?>, Object> attr : configured.attrs().entrySet()) {
            setAttr(copy, attr.getKey(), attr.getValue());
        }
        if (configured.handler() != null) {
            copy.handler(configured.handler());
        }
        builder.bootstrap(copy);
    }

    @SuppressWarnings("unchecked")
    private static <T> void setOption(Bootstrap bootstrap, ChannelOption<T> option, Object value) {
        bootstrap.option(option, (T) value);
    }

    @SuppressWarnings("unchecked")
    private static <T> void setAttr(Bootstrap bootstrap, AttributeKey<T> key, Object value) {
        bootstrap.attr(key, (T) value);
    }

    private static final class Standalone extends RedisClient {
        private final Transport transport;

        Standalone(ClientResources resources, Transport transport) {
            super(resources, new RedisURI());
            this.transport = transport;
        }

        @Override
        protected void connectionBuilder(Mono<SocketAddress> address, ConnectionBuilder builder, ConnectionEvents events,
                                         RedisURI uri) {
            super.connectionBuilder(address, builder, events, uri);
            rebind(builder, transport);
        }
    }

    private static final class Cluster extends RedisClusterClient {
        private final Transport transport;

        Cluster(ClientResources resources, Iterable<RedisURI> uris, Transport transport) {
            super(resources, uris);
            this.transport = transport;
        }

        @Override
        protected void connectionBuilder(Mono<SocketAddress> address, ConnectionBuilder builder, ConnectionEvents events,
                                         RedisURI uri) {
            super.connectionBuilder(address, builder, events, uri);
            rebind(builder, transport);
        }
    }
}
