package io.tollgate.proxy;

import io.tollgate.proxy.chat.ContentLimits;
import io.tollgate.proxy.chat.ContentRules;

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
 * @param maxMessages             elements of a chat request's {@code messages} (SPEC: 200)
 * @param maxMessageChars         code points of all message text of a chat request (SPEC: 64,000)
 * @param contentRules            keywords and expressions that refuse a chat request (403)
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
        int maxMessages,
        int maxMessageChars,
        ContentRules contentRules) {

    public static final int DEFAULT_MAX_BODY_BYTES = 512 * 1024;

    public ProxyConfig {
        new ContentLimits(maxMessages, maxMessageChars, contentRules);   // refuses negative limits, null rules
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
                ContentLimits.DEFAULT_MAX_MESSAGES,
                ContentLimits.DEFAULT_MAX_MESSAGE_CHARS,
                ContentRules.NONE);
    }

    public ProxyConfig withHostPort(String host, int port) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval,
                maxMessages, maxMessageChars, contentRules);
    }

    public ProxyConfig withTimeouts(Duration connect, Duration firstByte, Duration idle) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, connect, firstByte, idle,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval,
                maxMessages, maxMessageChars, contentRules);
    }

    public ProxyConfig withRequestHeadTimeout(Duration timeout) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                timeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval,
                maxMessages, maxMessageChars, contentRules);
    }

    public ProxyConfig withMessageLimits(int maxMessages, int maxMessageChars) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval,
                maxMessages, maxMessageChars, contentRules);
    }

    public ProxyConfig withContentRules(ContentRules rules) {
        return new ProxyConfig(host, port, ioThreads, maxBodyBytes, maxHeaderBytes, maxInitialLineBytes,
                requestHeadTimeout, upstreamConnectTimeout, upstreamFirstByteTimeout, upstreamIdleTimeout,
                clientIdleTimeout, poolIdleTimeout, poolMaxIdlePerUpstream, cacheRefreshInterval,
                maxMessages, maxMessageChars, rules);
    }

    /** What the chat inspector enforces on messages. */
    public ContentLimits contentLimits() {
        return new ContentLimits(maxMessages, maxMessageChars, contentRules);
    }
}
