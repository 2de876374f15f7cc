package io.tollgate.bench.suite;

import io.tollgate.bench.TollgateBenchServer;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code netty} contender: {@link io.tollgate.bench.NettyRelayMain}, a plain Netty relay with no
 * feature, in its own JVM with Tollgate's JVM options, event loops and CPUs: it splits Tollgate's
 * cost into the stack's and the features'.
 */
final class RelayProcess extends JvmProxyContender {

    private static final Pattern READY = Pattern.compile("netty-relay ready port=(\\d+)");

    private RelayProcess(Child child, int port) {
        super(child, port);
    }

    static RelayProcess start(Launch launch, int upstreamPort, Path dir) throws IOException {
        CompletableFuture<Integer> ready = new CompletableFuture<>();
        Child child = Child.start("netty-relay-" + System.currentTimeMillis(),
                launch.java(launch.pinProxy(), launch.tollgateJvmOptions(), "io.tollgate.bench.NettyRelayMain",
                        "--upstream", "http://127.0.0.1:" + upstreamPort, "--port", "0",
                        "--io-threads", Integer.toString(launch.proxyThreads()), "--transport", launch.transport(),
                        "--busy-poll-us", Integer.toString(launch.busyPollMicros())),
                dir, line -> {
                    Matcher m = READY.matcher(line);
                    if (m.find()) {
                        ready.complete(Integer.parseInt(m.group(1)));
                    }
                });
        try {
            return new RelayProcess(child, ready.get(60, TimeUnit.SECONDS));
        } catch (Exception e) {
            child.stop(Duration.ofSeconds(10));
            throw new IllegalStateException("the Netty relay did not start (log " + child.log() + "):\n" + child.tail(), e);
        }
    }

    @Override
    public String name() {
        return NETTY;
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("Authorization", "Bearer " + TollgateBenchServer.UPSTREAM_KEY);
    }

    @Override
    public void close() {
        child.stop(Duration.ofSeconds(10));
    }
}
