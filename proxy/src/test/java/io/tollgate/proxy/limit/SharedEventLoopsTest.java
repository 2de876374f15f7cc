package io.tollgate.proxy.limit;

import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.tollgate.proxy.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.tollgate.proxy.limit.LimiterConformanceTest.newId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A limiter given the proxy's loops answers on the loop that asked: no thread hand-over per call;
 * and the calls made in one pass of a loop leave for Redis in one write. On each transport the
 * proxy can run: Lettuce picks epoll by itself, so on io_uring or NIO loops the Redis connection
 * must still be a channel of theirs (a channel of another transport cannot register with them, and
 * every call would fail).
 */
class SharedEventLoopsTest {

    private MultiThreadIoEventLoopGroup group;
    private RedisServer server;
    private Limiters limiters;

    private void start(Transport transport) {
        assumeTrue(transport.available(), transport.configName() + " is not available here");
        group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
        server = RedisServer.start();
        limiters = Limiters.create(LimiterConfig.defaults().withRedisUrl(server.url())
                .withFailurePolicy(FailurePolicy.CLOSED), group);
    }

    @AfterEach
    void stop() {
        if (limiters != null) {
            limiters.close();
        }
        if (server != null) {
            server.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aCallFromTheProxysLoopIsAnsweredOnThatLoop(Transport transport) throws Exception {
        start(transport);
        EventLoop loop = group.next();
        CompletableFuture<Boolean> answeredOnLoop = new CompletableFuture<>();
        CompletableFuture<Decision> decision = new CompletableFuture<>();
        loop.execute(() -> limiters.rateLimiter().acquire(newId(), LimitClass.GENERAL, 30)
                .whenComplete((d, e) -> {
                    answeredOnLoop.complete(loop.inEventLoop());
                    if (e == null) {
                        decision.complete(d);
                    } else {
                        decision.completeExceptionally(e);
                    }
                }));
        assertThat(decision.get(5, TimeUnit.SECONDS).allowed()).isTrue();
        assertThat(answeredOnLoop.get()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void theCallsOfOneLoopPassReachRedisInOneWrite(Transport transport) throws Exception {
        start(transport);
        EventLoop loop = group.next();
        RateLimiter limiter = limiters.rateLimiter();
        limiter.acquire(newId(), LimitClass.GENERAL, 30).toCompletableFuture().get(5, TimeUnit.SECONDS); // script loaded
        long infoItself = readsProcessed(server) - readsProcessed(server);
        int calls = 50;

        long before = readsProcessed(server);
        CompletableFuture<CompletableFuture<?>[]> issued = new CompletableFuture<>();
        loop.execute(() -> {
            CompletableFuture<?>[] answers = new CompletableFuture<?>[calls];
            for (int i = 0; i < calls; i++) {
                answers[i] = limiter.acquire(newId(), LimitClass.GENERAL, 30).toCompletableFuture();
            }
            issued.complete(answers);
        });
        CompletableFuture.allOf(issued.get(5, TimeUnit.SECONDS)).get(5, TimeUnit.SECONDS);
        long reads = readsProcessed(server) - before + infoItself;

        // One read when they arrive as one write (two should the kernel split it); one a call
        // if each is flushed alone.
        assertThat(reads).as("Redis reads for %d calls", calls).isLessThanOrEqualTo(2);
    }

    private static long readsProcessed(RedisServer server) {
        for (String line : server.cli("INFO", "stats").split("\\R")) {
            if (line.startsWith("total_reads_processed:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        throw new IllegalStateException("INFO stats has no total_reads_processed");
    }
}
