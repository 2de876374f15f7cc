package io.tollgate.proxy;

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
        Duration cacheRefreshInterval) {

    public static final int DEFAULT_MAX_BODY_BYTES = 512 * 1024;

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
                Duration.ofSeconds(30));
    }

    public ProxyConfig withHostPort(String host, int port) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval);
    }

    public ProxyConfig withTimeouts(Duration connect, Duration firstByte, Duration idle) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, connect, firstByte, idle,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval);
    }

    public ProxyConfig withRequestHeadTimeout(Duration timeout) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                timeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval);
    }
}
