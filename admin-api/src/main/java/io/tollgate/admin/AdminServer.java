package io.tollgate.admin;

import io.tollgate.schema.Database;

/** The admin REST API under /admin/v1. Work in progress. */
public final class AdminServer implements AutoCloseable {

    /** @param adminToken the bearer token every admin request must carry */
    public record Config(String host, int port, String adminToken) {
    }

    private AdminServer() {
    }

    public static AdminServer start(Config config, Database database) {
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
