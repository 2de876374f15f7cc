package io.tollgate.proxy.upstream;

import java.net.URI;

/**
 * Where an upstream lives, parsed once from its {@code base_url}: the connection key of the pool
 * and the path every endpoint is appended to.
 */
public record UpstreamTarget(String host, int port, boolean tls, String basePath, String hostHeader) {

    public static UpstreamTarget parse(String baseUrl) {
        URI uri = URI.create(baseUrl);
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
        boolean tls = switch (scheme) {
            case "https" -> true;
            case "http" -> false;
            default -> throw new IllegalArgumentException("base_url must be http or https: " + baseUrl);
        };
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("base_url has no host: " + baseUrl);
        }
        int port = uri.getPort() > 0 ? uri.getPort() : (tls ? 443 : 80);
        boolean defaultPort = uri.getPort() <= 0 || (tls ? port == 443 : port == 80);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return new UpstreamTarget(uri.getHost(), port, tls, path,
                defaultPort ? uri.getHost() : uri.getHost() + ":" + port);
    }

    /** The same path on another address: how the built-in mock provider is reached. */
    public UpstreamTarget at(String host, int port) {
        return new UpstreamTarget(host, port, false, basePath, host + ":" + port);
    }
}
