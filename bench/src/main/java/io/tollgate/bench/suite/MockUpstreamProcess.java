package io.tollgate.bench.suite;

import io.tollgate.bench.TollgateBenchServer;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The mock upstream in a process of its own ({@code MockUpstreamMain}), on CPUs of its own or the generator's;
 * also the {@code direct} contender: the floor every proxy is measured against.
 */
final class MockUpstreamProcess extends ChildContender {

    private static final Pattern LISTENING = Pattern.compile("listening on http://([^:]+):(\\d+)/v1");

    private MockUpstreamProcess(Child child, int port) {
        super(child, port);
    }

    static MockUpstreamProcess start(Launch launch, Path dir) throws IOException {
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Child child = Child.start("mock-upstream",
                launch.java(launch.pinMock(), List.of("-Xms1g", "-Xmx1g"), "io.tollgate.bench.MockUpstreamMain",
                        "--port", "0", "--threads", Integer.toString(launch.mockThreads()),
                        "--api-key", TollgateBenchServer.UPSTREAM_KEY),
                dir, line -> {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(2)));
                    }
                });
        try {
            return new MockUpstreamProcess(child, port.get(60, TimeUnit.SECONDS));
        } catch (Exception e) {
            child.stop(Duration.ofSeconds(5));
            throw new IllegalStateException("the mock upstream did not start: " + child.tail(), e);
        }
    }

    @Override
    public String name() {
        return DIRECT;
    }

    /** {@code http://127.0.0.1:<port>/v1}, the base URL the proxies forward to. */
    String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    long pid() {
        return child.pid();
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("Authorization", "Bearer " + TollgateBenchServer.UPSTREAM_KEY);
    }

    @Override
    public List<Long> proxyPids() {
        return List.of();
    }

    @Override
    public void close() {
        child.stop(Duration.ofSeconds(10));
    }
}
