package io.tollgate.proxy.limit;

import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.tollgate.proxy.limit.LimiterConformanceTest.newId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A limiter given the proxy's loops answers on the loop that asked: no thread hand-over per call. */
class SharedEventLoopsTest {

    @Test
    void aCallFromTheProxysLoopIsAnsweredOnThatLoop() throws Exception {
        assumeTrue(Epoll.isAvailable(), "the proxy shares its loops with Lettuce on epoll");
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (RedisServer server = RedisServer.start();
             Limiters limiters = Limiters.create(LimiterConfig.defaults().withRedisUrl(server.url())
                     .withFailurePolicy(FailurePolicy.CLOSED), group)) {
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
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
