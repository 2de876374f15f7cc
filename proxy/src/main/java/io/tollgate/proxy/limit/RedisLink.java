package io.tollgate.proxy.limit;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.event.Event;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.NettyCustomizer;
import io.lettuce.core.resource.Transports;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.tollgate.proxy.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The one shared Lettuce connection (standalone or cluster) behind the Redis limiters, set up
 * for a hot path: every command times out after {@code timeout} (not Lettuce's 60 s), the
 * request queue is bounded, commands are rejected at once while disconnected, and reconnects
 * back off to at most 1 s. {@link #execute} adds the {@link RedisHealth}
 * bookkeeping; {@link #script} is EVALSHA with the EVAL fallback on NOSCRIPT. The commands issued
 * in one pass of an event loop are written with one flush (a {@link FlushConsolidationHandler}
 * at the end of Lettuce's pipeline), not one each.
 */
final class RedisLink implements AutoCloseable {

    static final int REQUEST_QUEUE_SIZE = 10_000;
    /** Commands written before a flush is forced even mid-pass (see FlushConsolidationHandler). */
    static final int MAX_COMMANDS_PER_FLUSH = 64;
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    static final Duration RETRY_INTERVAL = Duration.ofMillis(200);
    static final int FAILURES_TO_OPEN = 3;

    private static final Logger log = LoggerFactory.getLogger(RedisLink.class);
    private static final String CLUSTER_SCHEME = "redis-cluster://";

    private final String url;
    private final Duration timeout;
    private final ClientResources resources;
    private final HashedWheelTimer timer;
    private final DnsAddressResolverGroup resolver;
    private final AbstractRedisClient client;
    private final RedisHealth health;
    private final List<RedisURI> uris;
    private volatile StatefulConnection<String, String> connection;
    private volatile RedisClusterAsyncCommands<String, String> commands;
    private volatile boolean closed;

    private RedisLink(String url, Duration timeout, EventLoopGroup loops) {
        Transport transport = loops != null && Transports.eventLoopGroupClass().isInstance(loops)
                ? Transport.of(loops) : null;
        this.url = url;
        this.timeout = timeout;
        this.uris = parse(url);
        this.health = new RedisHealth(redacted(url), FAILURES_TO_OPEN, RETRY_INTERVAL);
        // Lettuce's own timer wheel ticks every 100 ms, so a 50 ms command timeout fired 50 to
        // 150 ms after the send (82 ms in a row against a frozen Redis). Ticking at a fifth of the
        // timeout keeps each deadline within a fifth of itself; Lettuce leaves a timer it was
        // given running at its shutdown, so close() stops it.
        this.timer = new HashedWheelTimer(new DefaultThreadFactory("tollgate-redis-timer", true),
                tickMillis(timeout), TimeUnit.MILLISECONDS);
        ClientResources.Builder builder = ClientResources.builder()
                .timer(timer)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .nettyCustomizer(new NettyCustomizer() {
                    @Override
                    public void afterChannelInitialized(Channel channel) {
                        // Lettuce flushes each command on its own: one write syscall per request.
                        // Consolidated, the commands of one event-loop pass leave in one write.
                        channel.pipeline().addLast(new FlushConsolidationHandler(MAX_COMMANDS_PER_FLUSH, true));
                    }
                });
        if (transport != null) {
            builder.eventLoopGroupProvider(new SharedEventLoops(loops));
            // Lettuce's own resolver would open channels of its own choice of transport.
            this.resolver = transport.newDnsResolverGroup();
            builder.addressResolverGroup(resolver);
        } else {
            this.resolver = null;
        }
        this.resources = builder.build();
        SocketOptions socket = SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).keepAlive(true).build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(timeout);
        if (isCluster(url)) {
            RedisClusterClient cluster = transport == null
                    ? RedisClusterClient.create(resources, uris) : TransportClients.cluster(resources, uris, transport);
            cluster.setOptions(ClusterClientOptions.builder()
                    .timeoutOptions(timeouts)
                    .requestQueueSize(REQUEST_QUEUE_SIZE)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .autoReconnect(true)
                    .socketOptions(socket)
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enableAllAdaptiveRefreshTriggers()
                            .enablePeriodicRefresh(Duration.ofSeconds(30))
                            .build())
                    .build());
            this.client = cluster;
            resources.eventBus().get().subscribe(this::onTopologyChange);
        } else {
            RedisClient single = transport == null
                    ? RedisClient.create(resources) : TransportClients.standalone(resources, transport);
            single.setOptions(ClientOptions.builder()
                    .timeoutOptions(timeouts)
                    .requestQueueSize(REQUEST_QUEUE_SIZE)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .autoReconnect(true)
                    .socketOptions(socket)
                    .build());
            this.client = single;
        }
    }

    /**
     * Connects, waiting at most about {@link #CONNECT_TIMEOUT}. If Redis is not there yet the
     * link still opens: calls fail fast (the failure policy answers) and it keeps trying in the
     * background, so a proxy can start before its Redis.
     */
    static RedisLink open(String url, Duration timeout) {
        return open(url, timeout, null);
    }

    /** The same, on {@code loops} when Lettuce's transport can use them (see {@link SharedEventLoops}). */
    static RedisLink open(String url, Duration timeout, EventLoopGroup loops) {
        RedisLink link = new RedisLink(url, timeout, loops);
        CompletableFuture<Void> first = link.connect();
        try {
            first.get(CONNECT_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("Redis at {} is not reachable yet ({}); retrying in the background",
                    redacted(url), e.getCause() == null ? e.toString() : e.getCause().toString());
        }
        return link;
    }

    private CompletableFuture<Void> connect() {
        CompletableFuture<? extends StatefulConnection<String, String>> attempt;
        if (client instanceof RedisClusterClient cluster) {
            // connectAsync needs the topology first (unlike connect(), it does not load it itself)
            attempt = cluster.refreshPartitionsAsync().toCompletableFuture()
                    .thenCompose(loaded -> cluster.connectAsync(StringCodec.UTF8));
        } else {
            attempt = ((RedisClient) client).connectAsync(StringCodec.UTF8, uris.get(0)).toCompletableFuture();
        }
        return attempt.thenCompose(this::warmUp).handle((conn, err) -> {
            if (err != null) {
                if (!closed) {
                    resources.eventExecutorGroup().schedule(() -> {
                        connect();
                    }, RETRY_INTERVAL.toMillis() * 5, TimeUnit.MILLISECONDS);
                }
                throw new CompletionException(err);
            }
            if (closed) {
                conn.closeAsync();
                return null;
            }
            connection = conn;
            commands = conn instanceof StatefulRedisClusterConnection<String, String> c ? c.async()
                    : ((StatefulRedisConnection<String, String>) conn).async();
            log.info("connected to Redis at {} (command timeout {} ms)", redacted(url), timeout.toMillis());
            return null;
        });
    }

    /**
     * Opens the connection to every master before the link is used. Lettuce opens node
     * connections lazily, and with REJECT_COMMANDS a command routed to one still connecting is
     * refused, which would make the first calls to each node fail. Done again on topology changes.
     */
    private <C extends StatefulConnection<String, String>> CompletableFuture<C> warmUp(C conn) {
        if (!(conn instanceof StatefulRedisClusterConnection<String, String> cluster)) {
            return CompletableFuture.completedFuture(conn);
        }
        return connectMasters(cluster).handle((ok, err) -> conn); // a node that fails here is retried on use
    }

    private static CompletableFuture<Void> connectMasters(StatefulRedisClusterConnection<String, String> cluster) {
        List<CompletableFuture<?>> nodes = new ArrayList<>();
        for (RedisClusterNode node : cluster.getPartitions()) {
            if (node.is(RedisClusterNode.NodeFlag.UPSTREAM) && node.getUri() != null) {
                nodes.add(cluster.getConnectionAsync(node.getUri().getHost(), node.getUri().getPort()));
            }
        }
        return CompletableFuture.allOf(nodes.toArray(CompletableFuture[]::new));
    }

    private void onTopologyChange(Event event) {
        if (event instanceof ClusterTopologyChangedEvent && connection instanceof StatefulRedisClusterConnection<String, String> c) {
            connectMasters(c);
        }
    }

    Duration timeout() {
        return timeout;
    }

    boolean isDown() {
        return health.isDown();
    }

    /**
     * Runs one Redis call, timed out by Lettuce after {@code timeout}. Fails fast (no Redis I/O) while
     * the circuit is open or before the first connection.
     */
    <T> CompletableFuture<T> execute(Function<RedisClusterAsyncCommands<String, String>, CompletionStage<T>> call) {
        long ticket = health.begin();
        if (ticket == RedisHealth.SKIP) {
            return CompletableFuture.failedFuture(RedisUnavailableException.CIRCUIT_OPEN);
        }
        RedisClusterAsyncCommands<String, String> c = commands;
        if (c == null || closed) {
            health.failed(ticket, RedisUnavailableException.NOT_CONNECTED);
            return CompletableFuture.failedFuture(RedisUnavailableException.NOT_CONNECTED);
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        long pausedAtSend = JvmPauses.millis();
        try {
            // One stage on Lettuce's future: health first, then the caller's answer.
            call.apply(c).whenComplete((v, e) -> {
                if (e == null) {
                    health.succeeded(ticket);
                    out.complete(v);
                    return;
                }
                Throwable cause = unwrap(e);
                if (cause instanceof RedisCommandExecutionException) {
                    health.succeeded(ticket);       // Redis answered, even if with an error
                } else if (cause instanceof RedisCommandTimeoutException
                        && (JvmPauses.millis() - pausedAtSend) * 2 >= timeout.toMillis()) {
                    // This JVM stood still for half the timeout or more: the wait was ours, not
                    // Redis's. The call still fails (its caller's failure policy answers it), but
                    // it does not count towards calling Redis down.
                    if (log.isDebugEnabled()) {
                        log.debug("Redis call to {} timed out across a collection pause of this JVM", redacted(url));
                    }
                } else {
                    health.failed(ticket, cause);
                }
                out.completeExceptionally(cause);
            });
        } catch (RuntimeException e) {
            health.failed(ticket, e);
            out.completeExceptionally(e);
        }
        // The deadline is Lettuce's own command timeout (TimeoutOptions, on its timer wheel). An
        // orTimeout here as well cost a task on the JDK's delay scheduler per call, scheduled and
        // cancelled: 5% of the proxy's CPU in the bench. After a NOSCRIPT the EVAL that follows
        // has a timeout of its own, so that rare call can take up to twice the timeout.
        return out;
    }

    /** EVALSHA, then EVAL only when Redis answers NOSCRIPT (which also caches the script again). */
    <T> CompletableFuture<T> script(RedisScript script, ScriptOutputType type, String key, String... args) {
        String[] keys = {key};
        return execute(c -> c.<T>evalsha(script.sha(), type, keys, args).exceptionallyCompose(e -> {
            if (unwrap(e) instanceof RedisNoScriptException) {
                log.debug("NOSCRIPT for {}; sending its body with EVAL", script.name());
                return c.<T>eval(script.body(), type, keys, args);
            }
            return CompletableFuture.failedStage(e);
        }));
    }

    @Override
    public void close() {
        closed = true;
        StatefulConnection<String, String> conn = connection;
        if (conn != null) {
            conn.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
        timer.stop();
        if (resolver != null) {
            resolver.close();
        }
    }

    /** The timer wheel's tick for {@code timeout}: a fifth of it, from 1 to 100 ms. */
    static long tickMillis(Duration timeout) {
        return Math.clamp(timeout.toMillis() / 5, 1, 100);
    }

    static boolean isCluster(String url) {
        return url.regionMatches(true, 0, CLUSTER_SCHEME, 0, CLUSTER_SCHEME.length());
    }

    /**
     * {@code redis://[:password@]host:port[/db]} (anything {@link RedisURI#create} takes) or
     * {@code redis-cluster://[user:password@]host:port,host:port,...} (seed nodes).
     */
    static List<RedisURI> parse(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("Redis URL is empty");
        }
        if (!isCluster(url)) {
            return List.of(RedisURI.create(url));
        }
        String rest = url.substring(CLUSTER_SCHEME.length());
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            rest = rest.substring(0, slash);
        }
        String userInfo = "";
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            userInfo = rest.substring(0, at + 1);
            rest = rest.substring(at + 1);
        }
        List<RedisURI> seeds = new ArrayList<>();
        for (String hostPort : rest.split(",")) {
            if (!hostPort.isBlank()) {
                seeds.add(RedisURI.create("redis://" + userInfo + hostPort.trim()));
            }
        }
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("redis-cluster:// URL names no node: " + redacted(url));
        }
        return List.copyOf(seeds);
    }

    /** The URL without its password, for logs. */
    static String redacted(String url) {
        return url == null ? null : url.replaceAll("//[^@/]*@", "//***@");
    }

    static Throwable unwrap(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** Why a call did not reach Redis; shared instances without stack traces (they are not bugs). */
    static final class RedisUnavailableException extends RuntimeException {
        static final RedisUnavailableException CIRCUIT_OPEN = new RedisUnavailableException("Redis is marked down; waiting for the next probe");
        static final RedisUnavailableException NOT_CONNECTED = new RedisUnavailableException("not connected to Redis yet");

        private RedisUnavailableException(String message) {
            super(message, null, false, false);
        }
    }
}
