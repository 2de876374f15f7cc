package io.tollgate.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.tollgate.proxy.mock.MockProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/*
 * Runs the mock OpenAI-compatible provider in its own process, as the benchmark's upstream.
 * From the repository root, after `mvn -B -q -pl schema,proxy,bench -am install`:
 *
 *   mvn -q -pl bench exec:java -Dexec.mainClass=io.tollgate.bench.MockUpstreamMain \
 *       -Dexec.args="--port 9999 --tokens 16 --chunk-delay-ms 20"
 *
 * or, without Maven in the process (the output file is relative to bench/):
 *
 *   mvn -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
 *   java --enable-native-access=ALL-UNNAMED -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
 *       io.tollgate.bench.MockUpstreamMain --port 9999
 *
 * Then: curl -N http://127.0.0.1:9999/v1/chat/completions -H 'Authorization: Bearer x' \
 *       -d '{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}'
 * Per-request steering headers (x-mock-tokens, x-mock-behavior, ...): see MockHeaders.
 */
@Command(name = "mock-upstream", mixinStandardHelpOptions = true,
        description = "Runs the mock OpenAI-compatible provider until killed.")
public final class MockUpstreamMain implements Callable<Integer> {

    @Option(names = "--host", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Option(names = "--port", description = "port to bind, 0 for any (default: ${DEFAULT-VALUE})")
    int port = 9999;

    @Option(names = "--tokens", description = "completion tokens per answer (default: ${DEFAULT-VALUE})")
    int tokens = 16;

    @Option(names = "--chunk-delay-ms", description = "pause between streamed chunks (default: ${DEFAULT-VALUE})")
    long chunkDelayMs = 0;

    @Option(names = "--first-byte-delay-ms", description = "pause before each response head (default: ${DEFAULT-VALUE})")
    long firstByteDelayMs = 0;

    @Option(names = "--api-key", description = "the only bearer key accepted (default: any key)")
    String apiKey;

    @Option(names = "--threads", description = "event loop threads (default: ${DEFAULT-VALUE})")
    int threads = 2;

    @Option(names = "--forget-every-ms", description = "forget the recorded requests this often, so a long "
            + "run of 512 KB uploads does not pile up bodies; 0 keeps them (default: ${DEFAULT-VALUE})")
    long forgetEveryMs = 100;

    public static void main(String[] args) {
        int exit = new CommandLine(new MockUpstreamMain()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        MockProvider.Options options = new MockProvider.Options(tokens, Duration.ofMillis(chunkDelayMs),
                Duration.ofMillis(firstByteDelayMs), apiKey);
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("mock-upstream"), io);
        MockProvider mock;
        try {
            mock = MockProvider.start(group, host, port, options);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }

        if (forgetEveryMs > 0) {
            // The mock keeps its newest 10,000 requests for tests; a benchmark upstream needs none.
            group.next().scheduleAtFixedRate(mock::reset, forgetEveryMs, forgetEveryMs, TimeUnit.MILLISECONDS);
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            mock.close();
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            stopped.countDown();
        }, "mock-upstream-shutdown"));

        System.out.println("mock upstream listening on http://" + host + ":" + mock.port() + "/v1");
        stopped.await();
        return 0;
    }
}
