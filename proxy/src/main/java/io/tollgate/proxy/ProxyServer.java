package io.tollgate.proxy;

import io.tollgate.schema.Database;

/** The public OpenAI-compatible gateway. Work in progress: the pipeline lands next. */
public final class ProxyServer implements AutoCloseable {

    private ProxyServer() {
    }

    /** Binds the proxy, loads the catalog and starts listening for changes. */
    public static ProxyServer start(ProxyConfig config, Database database) {
        throw new UnsupportedOperationException("not yet");
    }

    /** The port actually bound (useful with port 0). */
    public int port() {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public void close() {
    }
}
