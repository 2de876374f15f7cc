package io.tollgate.proxy;

import io.tollgate.proxy.billing.BillingConfig;
import io.tollgate.proxy.chat.ContentLimits;
import io.tollgate.proxy.chat.ContentRules;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * Everything the proxy is tuned by, fixed at start-up. Start from {@link #defaults()} and change
 * what differs with the {@code with…} methods.
 *
 * @param ioThreads               event loops; 0 means one per core
 * @param transport               the socket layer of the event loops ({@link Transport})
 * @param busyPoll                how long an event loop polls for ready channels after its last
 *                                work before it sleeps (epoll and NIO; zero sleeps at once): a
 *                                lower added latency for a CPU that stays busy while requests
 *                                keep coming ({@link BusyPollStrategy}); at most {@link #MAX_BUSY_POLL}
 * @param maxBodyBytes            request body limit, Content-Length or chunked (SPEC: 512 KB)
 * @param maxHeaderBytes          request head limit, beyond it 431
 * @param requestHeadTimeout      a client that has not sent a whole head by then gets 408
 * @param upstreamConnectTimeout  connecting to an upstream (then 504)
 * @param upstreamFirstByteTimeout from the end of the request to the upstream's response head (then 504)
 * @param upstreamIdleTimeout     longest silence inside an upstream response
 * @param clientIdleTimeout       idle keep-alive client connections are closed after this
 * @param poolIdleTimeout         pooled upstream connections idle longer are closed; keep it below
 *                                the upstream's own keep-alive timeout
 * @param poolMaxIdlePerUpstream  idle connections kept per upstream and event loop
 * @param poolSparesPerUpstream   connections opened ahead per upstream and event loop while its
 *                                pooled ones are being reused ({@code UpstreamPool})
 * @param cacheRefreshInterval    full reload of keys, models and upstreams, besides notifications
 * @param maxMessages             elements of a chat request's {@code messages} (SPEC: 200)
 * @param maxMessageChars         code points of all message text of a chat request (SPEC: 64,000)
 * @param contentRules            keywords and expressions that refuse a chat request (403)
 * @param catalogStaleness        when the catalog could not be refreshed from the database for
 *                                longer than this, cached keys are still honoured (spending stays
 *                                bounded by the credit leases) but a warning is logged every time
 *                                this much more has passed
 * @param billing                 the money path: journal directory, credit lease lifetime, outage
 *                                allowance ({@link BillingConfig})
 * @param maxUpstreamAttempts     upstreams one request may try, the first included, when the ones
 *                                before failed without answering (failover); at least 1
 * @param replayBufferBytes       request body bytes kept after they went upstream, so a failed
 *                                attempt can be replayed to the next upstream; a body that went
 *                                past this is only retried when none of it had left
 */
public record ProxyConfig(
        String host,
        int port,
        int ioThreads,
        Transport transport,
        Duration busyPoll,
        int maxBodyBytes,
        int maxHeaderBytes,
        int maxInitialLineBytes,
        Duration requestHeadTimeout,
        Duration upstreamConnectTimeout,
        Duration upstreamFirstByteTimeout,
        Duration upstreamIdleTimeout,
        Duration clientIdleTimeout,
        Duration poolIdleTimeout,
        int poolMaxIdlePerUpstream,
        int poolSparesPerUpstream,
        Duration cacheRefreshInterval,
        int maxMessages,
        int maxMessageChars,
        ContentRules contentRules,
        Duration catalogStaleness,
        BillingConfig billing,
        int maxUpstreamAttempts,
        int replayBufferBytes) {

    public static final int DEFAULT_MAX_BODY_BYTES = 512 * 1024;
    public static final Duration DEFAULT_CATALOG_STALENESS = Duration.ofMinutes(5);
    public static final int DEFAULT_MAX_UPSTREAM_ATTEMPTS = 3;
    public static final int DEFAULT_REPLAY_BUFFER_BYTES = 64 * 1024;
    /** A loop's timers may fire this much late while it polls, so the poll is kept short. */
    public static final Duration MAX_BUSY_POLL = Duration.ofMillis(10);

    public ProxyConfig {
        new ContentLimits(maxMessages, maxMessageChars, contentRules);   // refuses negative limits, null rules
        if (billing == null || catalogStaleness == null || transport == null) {
            throw new IllegalArgumentException("billing, catalogStaleness and transport must be set");
        }
        if (busyPoll == null || busyPoll.isNegative() || busyPoll.compareTo(MAX_BUSY_POLL) > 0) {
            throw new IllegalArgumentException("busyPoll must be between 0 and " + MAX_BUSY_POLL.toNanos() / 1000
                    + " us, not " + busyPoll);
        }
        if (busyPoll.isPositive() && !transport.busyPolls()) {
            throw new IllegalArgumentException("busy polling needs the epoll or nio transport, not " + transport.configName());
        }
        if (maxUpstreamAttempts < 1 || replayBufferBytes < 0) {
            throw new IllegalArgumentException("maxUpstreamAttempts must be at least 1 and replayBufferBytes not negative");
        }
    }

    /**
     * Idle upstream connections kept per upstream and event loop. A load climbing past them is
     * served by the pool's spares ({@link #DEFAULT_POOL_SPARES}) rather than by keeping 256 idle,
     * as the bench's nginx does, at every upstream.
     */
    public static final int DEFAULT_POOL_MAX_IDLE = 64;

    /**
     * Spare upstream connections opened ahead. In the bench's SSE scenario each of its slices
     * climbed from idle to 100 open streams, beyond the 64 connections kept idle, and the next 36
     * streams each waited for a connect of 0.6 to 3.5 ms: 4% of the streams, the whole of the
     * first-byte p99 over direct.
     */
    public static final int DEFAULT_POOL_SPARES = 2;

    public static ProxyConfig defaults() {
        return new ProxyConfig(
                "0.0.0.0", 8080, 0, Transport.auto(), Duration.ZERO,
                DEFAULT_MAX_BODY_BYTES, 16 * 1024, 8 * 1024,
                Duration.ofSeconds(10),
                Duration.ofSeconds(5),
                Duration.ofSeconds(120),
                Duration.ofSeconds(120),
                Duration.ofSeconds(75),
                Duration.ofSeconds(30),
                DEFAULT_POOL_MAX_IDLE,
                DEFAULT_POOL_SPARES,
                Duration.ofSeconds(30),
                ContentLimits.DEFAULT_MAX_MESSAGES,
                ContentLimits.DEFAULT_MAX_MESSAGE_CHARS,
                ContentRules.NONE,
                DEFAULT_CATALOG_STALENESS,
                BillingConfig.defaults(),
                DEFAULT_MAX_UPSTREAM_ATTEMPTS,
                DEFAULT_REPLAY_BUFFER_BYTES);
    }

    /** The same on another address. */
    public ProxyConfig withHostPort(String host, int port) {
        return with(b -> {
            b.host = host;
            b.port = port;
        });
    }

    /** The same with this many event loops; 0 means one per core. */
    public ProxyConfig withIoThreads(int ioThreads) {
        return with(b -> b.ioThreads = ioThreads);
    }

    /** The same on another socket layer. */
    public ProxyConfig withTransport(Transport transport) {
        return with(b -> b.transport = transport);
    }

    /** The same with loops that poll this long before they sleep; zero sleeps at once. */
    public ProxyConfig withBusyPoll(Duration busyPoll) {
        return with(b -> b.busyPoll = busyPoll);
    }

    /** The same with these upstream timeouts. */
    public ProxyConfig withTimeouts(Duration connect, Duration firstByte, Duration idle) {
        return with(b -> {
            b.upstreamConnectTimeout = connect;
            b.upstreamFirstByteTimeout = firstByte;
            b.upstreamIdleTimeout = idle;
        });
    }

    /** The same with this client keep-alive idle timeout (also how long a stalled request body may wait). */
    public ProxyConfig withClientIdleTimeout(Duration timeout) {
        return with(b -> b.clientIdleTimeout = timeout);
    }

    /** The same with these pooled upstream connections: closed when idle this long, at most this many idle. */
    public ProxyConfig withUpstreamPool(Duration idleTimeout, int maxIdlePerUpstream) {
        return with(b -> {
            b.poolIdleTimeout = idleTimeout;
            b.poolMaxIdlePerUpstream = maxIdlePerUpstream;
        });
    }

    /** The same with this many spare upstream connections opened ahead (0: none). */
    public ProxyConfig withUpstreamSpares(int spares) {
        return with(b -> b.poolSparesPerUpstream = spares);
    }

    /** The same with this request-head timeout. */
    public ProxyConfig withRequestHeadTimeout(Duration timeout) {
        return with(b -> b.requestHeadTimeout = timeout);
    }

    /** The same with this request-body limit. */
    public ProxyConfig withMaxBodyBytes(int maxBodyBytes) {
        return with(b -> b.maxBodyBytes = maxBodyBytes);
    }

    /** The same with these message limits. */
    public ProxyConfig withMessageLimits(int maxMessages, int maxMessageChars) {
        return with(b -> {
            b.maxMessages = maxMessages;
            b.maxMessageChars = maxMessageChars;
        });
    }

    /** The same with these content rules. */
    public ProxyConfig withContentRules(ContentRules contentRules) {
        return with(b -> b.contentRules = contentRules);
    }

    /** The same with this catalog staleness bound. */
    public ProxyConfig withCatalogStaleness(Duration catalogStaleness) {
        return with(b -> b.catalogStaleness = catalogStaleness);
    }

    /** The same with these billing settings, e.g. {@code withBilling(billing().withJournalDir(dir))}. */
    public ProxyConfig withBilling(BillingConfig billing) {
        return with(b -> b.billing = billing);
    }

    /** The same with this failover: upstreams tried per request at most, and body bytes kept to replay. */
    public ProxyConfig withFailover(int maxUpstreamAttempts, int replayBufferBytes) {
        return with(b -> {
            b.maxUpstreamAttempts = maxUpstreamAttempts;
            b.replayBufferBytes = replayBufferBytes;
        });
    }

    /** A copy with {@code change} applied to its components; the constructor checks the result. */
    private ProxyConfig with(Consumer<Copy> change) {
        Copy b = new Copy(this);
        change.accept(b);
        return b.build();
    }

    /** The components as fields, so each {@code with…} names only what it changes. */
    private static final class Copy {
        String host;
        int port;
        int ioThreads;
        Transport transport;
        Duration busyPoll;
        int maxBodyBytes;
        int maxHeaderBytes;
        int maxInitialLineBytes;
        Duration requestHeadTimeout;
        Duration upstreamConnectTimeout;
        Duration upstreamFirstByteTimeout;
        Duration upstreamIdleTimeout;
        Duration clientIdleTimeout;
        Duration poolIdleTimeout;
        int poolMaxIdlePerUpstream;
        int poolSparesPerUpstream;
        Duration cacheRefreshInterval;
        int maxMessages;
        int maxMessageChars;
        ContentRules contentRules;
        Duration catalogStaleness;
        BillingConfig billing;
        int maxUpstreamAttempts;
        int replayBufferBytes;

        Copy(ProxyConfig c) {
            host = c.host;
            port = c.port;
            ioThreads = c.ioThreads;
            transport = c.transport;
            busyPoll = c.busyPoll;
            maxBodyBytes = c.maxBodyBytes;
            maxHeaderBytes = c.maxHeaderBytes;
            maxInitialLineBytes = c.maxInitialLineBytes;
            requestHeadTimeout = c.requestHeadTimeout;
            upstreamConnectTimeout = c.upstreamConnectTimeout;
            upstreamFirstByteTimeout = c.upstreamFirstByteTimeout;
            upstreamIdleTimeout = c.upstreamIdleTimeout;
            clientIdleTimeout = c.clientIdleTimeout;
            poolIdleTimeout = c.poolIdleTimeout;
            poolMaxIdlePerUpstream = c.poolMaxIdlePerUpstream;
            poolSparesPerUpstream = c.poolSparesPerUpstream;
            cacheRefreshInterval = c.cacheRefreshInterval;
            maxMessages = c.maxMessages;
            maxMessageChars = c.maxMessageChars;
            contentRules = c.contentRules;
            catalogStaleness = c.catalogStaleness;
            billing = c.billing;
            maxUpstreamAttempts = c.maxUpstreamAttempts;
            replayBufferBytes = c.replayBufferBytes;
        }

        ProxyConfig build() {
            return new ProxyConfig(host, port, ioThreads, transport, busyPoll, maxBodyBytes, maxHeaderBytes,
                    maxInitialLineBytes, requestHeadTimeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                    clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, poolSparesPerUpstream, cacheRefreshInterval, maxMessages,
                    maxMessageChars, contentRules, catalogStaleness, billing, maxUpstreamAttempts, replayBufferBytes);
        }
    }

    /** What the chat inspector enforces on messages. */
    public ContentLimits contentLimits() {
        return new ContentLimits(maxMessages, maxMessageChars, contentRules);
    }
}
