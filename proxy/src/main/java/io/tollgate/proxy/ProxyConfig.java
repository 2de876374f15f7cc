package io.tollgate.proxy;

import io.tollgate.proxy.billing.BillingConfig;

import java.time.Duration;

/**
 * Everything the proxy is tuned by, fixed at start-up.
 *
 * @param ioThreads               event loops; 0 means one per core
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
 * @param cacheRefreshInterval    full reload of keys, models and upstreams, besides notifications
 * @param catalogStaleness        when the catalog could not be refreshed from the database for
 *                                longer than this, cached keys are still honoured (spending stays
 *                                bounded by the credit leases) but a warning is logged every time
 *                                this much more has passed
 * @param billing                 the money path: journal directory, credit lease lifetime, outage
 *                                allowance ({@link BillingConfig})
 */
public record ProxyConfig(
        String host,
        int port,
        int ioThreads,
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
        Duration cacheRefreshInterval,
        Duration catalogStaleness,
        BillingConfig billing) {

    public static final int DEFAULT_MAX_BODY_BYTES = 512 * 1024;
    public static final Duration DEFAULT_CATALOG_STALENESS = Duration.ofMinutes(5);

    /** The settings before the journal: catalog staleness and billing at their defaults. */
    public ProxyConfig(String host, int port, int ioThreads, int maxBodyBytes, int maxHeaderBytes,
                       int maxInitialLineBytes, Duration requestHeadTimeout, Duration upstreamConnectTimeout,
                       Duration upstreamFirstByteTimeout, Duration upstreamIdleTimeout, Duration clientIdleTimeout,
                       Duration poolIdleTimeout, int poolMaxIdlePerUpstream, Duration cacheRefreshInterval) {
        this(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes, requestHeadTimeout,
                upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout, clientIdleTimeout,
                poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval, DEFAULT_CATALOG_STALENESS,
                BillingConfig.defaults());
    }

    public static ProxyConfig defaults() {
        return new ProxyConfig(
                "0.0.0.0", 8080, 0,
                DEFAULT_MAX_BODY_BYTES, 16 * 1024, 8 * 1024,
                Duration.ofSeconds(10),
                Duration.ofSeconds(5),
                Duration.ofSeconds(120),
                Duration.ofSeconds(120),
                Duration.ofSeconds(75),
                Duration.ofSeconds(30),
                64,
                Duration.ofSeconds(30),
                DEFAULT_CATALOG_STALENESS,
                BillingConfig.defaults());
    }

    public ProxyConfig withHostPort(String host, int port) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval, catalogStaleness, billing);
    }

    public ProxyConfig withTimeouts(Duration connect, Duration firstByte, Duration idle) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, connect, firstByte, idle,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval, catalogStaleness, billing);
    }

    public ProxyConfig withRequestHeadTimeout(Duration timeout) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                timeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval, catalogStaleness, billing);
    }

    /** The same with these billing settings, e.g. {@code withBilling(billing().withJournalDir(dir))}. */
    public ProxyConfig withBilling(BillingConfig billing) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval, catalogStaleness, billing);
    }

    public ProxyConfig withCatalogStaleness(Duration staleness) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval, staleness, billing);
    }
}
