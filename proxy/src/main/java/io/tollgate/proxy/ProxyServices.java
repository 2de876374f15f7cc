package io.tollgate.proxy;

import io.netty.channel.EventLoop;
import io.tollgate.proxy.billing.Billing;
import io.tollgate.proxy.catalog.Catalog;
import io.tollgate.proxy.limit.Limiters;
import io.tollgate.proxy.upstream.UpstreamPool;

import java.util.Map;

/** What every connection's handlers share: configuration, the catalog, billing, limits and the pools. */
public record ProxyServices(ProxyConfig config, Catalog catalog, Billing billing, Limiters limiters,
                            Map<EventLoop, UpstreamPool> pools) {

    public UpstreamPool pool(EventLoop loop) {
        UpstreamPool pool = pools.get(loop);
        if (pool == null) {
            throw new IllegalStateException("no upstream pool for " + loop);
        }
        return pool;
    }
}
