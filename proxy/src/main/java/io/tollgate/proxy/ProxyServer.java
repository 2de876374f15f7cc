package io.tollgate.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tollgate.proxy.billing.Billing;
import io.tollgate.proxy.catalog.Catalog;
import io.tollgate.proxy.catalog.CatalogSync;
import io.tollgate.proxy.limit.LimiterConfig;
import io.tollgate.proxy.limit.Limiters;
import io.tollgate.proxy.media.MediaConfig;
import io.tollgate.proxy.media.MediaServices;
import io.tollgate.proxy.media.TaskService;
import io.tollgate.proxy.mock.MockProvider;
import io.tollgate.proxy.upstream.UpstreamPool;
import io.tollgate.schema.BillingStore;
import io.tollgate.schema.Database;
import io.tollgate.schema.TaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The public OpenAI-compatible gateway: event loops (on {@link ProxyConfig#transport()}), the
 * per-loop upstream pools, the catalog kept fresh from the database, billing, and the built-in
 * {@code mock} provider that upstreams of provider {@code mock} are served by.
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final EventLoopGroup group;
    private final Channel server;
    /** Every accepted and upstream connection still open, closed before the loops stop. */
    private final ChannelGroup open;
    private final CatalogSync sync;
    private final Billing billing;
    private final MockProvider mock;
    private final Catalog catalog;
    private final Limiters limiters;
    private final DnsAddressResolverGroup resolver;
    private final TaskService tasks;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ProxyServer(EventLoopGroup group, Channel server, ChannelGroup open, CatalogSync sync, Billing billing,
                        MockProvider mock, Catalog catalog, Limiters limiters, DnsAddressResolverGroup resolver,
                        TaskService tasks) {
        this.tasks = tasks;
        this.limiters = limiters;
        this.resolver = resolver;
        this.group = group;
        this.server = server;
        this.open = open;
        this.sync = sync;
        this.billing = billing;
        this.mock = mock;
        this.catalog = catalog;
    }

    /** Binds the proxy with the in-process limiter and the default tiers. */
    public static ProxyServer start(ProxyConfig config, Database database) {
        return start(config, LimiterConfig.defaults(), database);
    }

    /** Binds the proxy with the default media settings. */
    public static ProxyServer start(ProxyConfig config, LimiterConfig limits, Database database) {
        return start(config, limits, MediaConfig.defaults(), database);
    }

    /** Binds the proxy, loads the catalog and starts listening for changes. */
    public static ProxyServer start(ProxyConfig config, LimiterConfig limits, MediaConfig mediaConfig, Database database) {
        Transport transport = config.transport();
        int threads = config.ioThreads() > 0 ? config.ioThreads() : Runtime.getRuntime().availableProcessors();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlerFactory(config.busyPoll()));
        MockProvider mock = null;
        Billing billing = null;
        CatalogSync sync = null;
        Limiters limiters = null;
        DnsAddressResolverGroup resolver = null;
        TaskService tasks = null;
        ChannelGroup open = new DefaultChannelGroup("tollgate-proxy", GlobalEventExecutor.INSTANCE);
        try {
            limiters = Limiters.create(limits, group);
            mock = MockProvider.start(group, "127.0.0.1", 0, MockProvider.Options.defaults());
            InetSocketAddress mockAddress = mock.address();

            SslContext ssl = SslContextBuilder.forClient().build();
            resolver = transport.newDnsResolverGroup();
            Map<EventLoop, UpstreamPool> pools = new HashMap<>();
            for (EventExecutor executor : group) {
                EventLoop loop = (EventLoop) executor;
                pools.put(loop, new UpstreamPool(loop, transport.socketChannel(), ssl, resolver, config.upstreamConnectTimeout(),
                        config.poolIdleTimeout(), config.poolMaxIdlePerUpstream(), config.poolSparesPerUpstream(), open));
            }
            Catalog catalog = new Catalog();
            sync = new CatalogSync(catalog, database, config.cacheRefreshInterval(), () -> mockAddress,
                    config.catalogStaleness());
            sync.start();
            billing = new Billing(new BillingStore(database.dataSource()), Math.max(2, database.config().maxPoolSize() / 2),
                    config.billing());
            ProxyServices services = new ProxyServices(config, catalog, billing, limiters, Map.copyOf(pools));
            tasks = new TaskService(services, mediaConfig, new TaskStore(database.dataSource())).start();

            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                    .childHandler(new ProxyInitializer(services, new MediaServices(mediaConfig, tasks), open))
                    .bind(config.host(), config.port())
                    .syncUninterruptibly()
                    .channel();
            log.info("proxy listening on {} ({})", server.localAddress(), transport.configName());
            return new ProxyServer(group, server, open, sync, billing, mock, catalog, limiters, resolver, tasks);
        } catch (SSLException | RuntimeException e) {
            if (tasks != null) {
                tasks.close();
            }
            if (sync != null) {
                sync.close();
            }
            if (billing != null) {
                billing.close();
            }
            if (mock != null) {
                mock.close();
            }
            if (limiters != null) {
                limiters.close();
            }
            if (resolver != null) {
                resolver.close();
            }
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
        }
    }

    /** The port actually bound (useful with port 0). */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Outcomes not yet written to the database (tests wait for zero). */
    public int pendingOutcomes() {
        return billing.pending();
    }

    /** How long since the catalog was last reloaded whole from the database. */
    public java.time.Duration catalogAge() {
        return sync.age();
    }

    /** Gives back every credit lease not in use now; a busy key simply takes a new one. */
    public void returnLeases() {
        billing.returnLeases();
    }

    /** Reloads the catalog from the database now (tests and the admin's "apply now"). */
    public void reloadCatalog() {
        sync.reloadAll();
    }

    /** The event loops serving clients and upstreams (the bench watches how late they run). */
    public EventLoopGroup eventLoops() {
        return group;
    }

    /** The built-in mock provider behind upstreams of provider {@code mock}. */
    public MockProvider mockProvider() {
        return mock;
    }

    Catalog catalog() {
        return catalog;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.close().syncUninterruptibly();
        // Every client and upstream connection closes here, on its own loop, before the loops stop:
        // on io_uring a channel still open when its loop shuts down may never get back the
        // buffer of its pending read (the ring closes without waiting for that completion).
        open.close().awaitUninterruptibly(2, java.util.concurrent.TimeUnit.SECONDS);
        tasks.close();
        sync.close();
        mock.close();
        limiters.close();                            // its Redis connection may live on the group's loops
        resolver.close();                            // its DNS channels do: on io_uring, a channel closed after
                                                     // its loop would never get back the buffer of its pending read
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        billing.close();
    }
}
