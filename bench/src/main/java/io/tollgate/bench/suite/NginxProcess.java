package io.tollgate.bench.suite;

import io.tollgate.bench.TollgateBenchServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * nginx from the distribution's package as a plain reverse proxy in front of the mock upstream:
 * keep-alive upstream connections, HTTP/1.1 upstream, no response buffering (SSE) and no request
 * buffering (so it streams uploads, as a gateway should). As many workers as Tollgate has event
 * loops, on the same CPUs.
 */
final class NginxProcess extends ChildContender {

    private final Path conf;

    private NginxProcess(Child child, int port, Path conf) {
        super(child, port);
        this.conf = conf;
    }

    static NginxProcess start(Launch launch, String nginx, int upstreamPort, long maxOpenFiles, Path dir)
            throws IOException {
        Path home = Files.createDirectories(dir.resolve("nginx-" + System.currentTimeMillis()));
        for (String sub : List.of("logs", "client_body", "proxy", "fastcgi", "uwsgi", "scgi")) {
            Files.createDirectories(home.resolve(sub));
        }
        int port = freePort();
        Path conf = home.resolve("nginx.conf");
        Files.writeString(conf, config(port, upstreamPort, launch.proxyThreads(), maxOpenFiles), StandardCharsets.UTF_8);
        List<String> cmd = new ArrayList<>(launch.pinProxy());
        cmd.addAll(List.of(nginx, "-p", home.toString(), "-c", conf.toString(), "-e", home.resolve("logs/error.log").toString()));
        Child child = Child.start("nginx", cmd, home, line -> { });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!child.alive()) {
                String err = Files.exists(home.resolve("logs/error.log")) ? Files.readString(home.resolve("logs/error.log")) : "";
                throw new IllegalStateException("nginx exited at start: " + child.tail() + "\n" + err);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return new NginxProcess(child, port, conf);
            } catch (IOException notYet) {
                sleep(100);
            }
        }
        child.stop(Duration.ofSeconds(5));
        throw new IllegalStateException("nginx did not listen on " + port + " within 20 s");
    }

    /** The whole configuration; {@code daemon off} so the suite owns the master process. */
    static String config(int port, int upstreamPort, int workers, long maxOpenFiles) {
        long files = Math.min(maxOpenFiles, 1_000_000);
        return """
                daemon off;
                master_process on;
                worker_processes %d;
                worker_rlimit_nofile %d;
                pid nginx.pid;
                error_log logs/error.log warn;
                user root;
                events {
                    worker_connections %d;
                    multi_accept on;
                }
                http {
                    access_log off;
                    client_body_temp_path client_body;
                    proxy_temp_path proxy;
                    fastcgi_temp_path fastcgi;
                    uwsgi_temp_path uwsgi;
                    scgi_temp_path scgi;
                    client_max_body_size 1m;
                    keepalive_timeout 75s;
                    keepalive_requests 100000000;
                    upstream mock {
                        server 127.0.0.1:%d;
                        keepalive 256;
                        keepalive_requests 100000000;
                        keepalive_timeout 60s;
                    }
                    server {
                        listen 127.0.0.1:%d backlog=4096;
                        location / {
                            proxy_pass http://mock;
                            proxy_http_version 1.1;
                            proxy_set_header Connection "";
                            proxy_buffering off;
                            proxy_request_buffering off;
                            proxy_read_timeout 300s;
                            proxy_send_timeout 300s;
                        }
                    }
                }
                """.formatted(workers, files, Math.max(1024, files - 64), upstreamPort, port);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** nginx's own "nginx version: nginx/1.22.1" line. */
    static String version(String nginx) {
        try {
            Process p = new ProcessBuilder(nginx, "-v").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return out.replace("nginx version: ", "");
        } catch (IOException e) {
            return "nginx (version unknown)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "nginx";
        }
    }

    Path conf() {
        return conf;
    }

    @Override
    public String name() {
        return NGINX;
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("Authorization", "Bearer " + TollgateBenchServer.UPSTREAM_KEY);
    }

    /** The master and its workers. */
    @Override
    public List<Long> proxyPids() {
        List<Long> pids = new ArrayList<>();
        pids.add(child.pid());
        pids.addAll(ProcStats.children(child.pid()));
        return pids;
    }

    @Override
    public void close() {
        child.stop(Duration.ofSeconds(10));
    }
}
