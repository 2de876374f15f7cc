package io.tollgate.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The keep-alive pool against a real listening socket: reuse while fresh, closed once idle too long. */
class UpstreamPoolTest {

    private static final Duration IDLE = Duration.ofMillis(400);

    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private UpstreamPool pool;
    private ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger closedByPeer = new AtomicInteger();
    private final CopyOnWriteArrayList<Socket> sockets = new CopyOnWriteArrayList<>();
    private UpstreamTarget target;
    private Thread acceptor;

    @BeforeEach
    void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = group.next();
        pool = new UpstreamPool(loop, NioSocketChannel.class, SslContextBuilder.forClient().build(),
                DefaultAddressResolverGroup.INSTANCE, Duration.ofSeconds(2), IDLE, 8);
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        target = UpstreamTarget.parse("http://127.0.0.1:" + server.getLocalPort() + "/v1");
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    sockets.add(s);
                    Thread.ofVirtual().start(() -> waitForClose(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void waitForClose(Socket s) {
        try (InputStream in = s.getInputStream()) {
            while (in.read() >= 0) {
                // the pool sends nothing; read until its close
            }
        } catch (IOException ignored) {
            // a reset counts as closed too
        }
        closedByPeer.incrementAndGet();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * Closes the listening socket for good. While the accept thread is still inside accept(2) the
     * kernel keeps the socket alive and completes handshakes into its backlog, so a connect made
     * before that thread has left would succeed; the CI run of 2026-12-07 saw two spares do that.
     */
    private void stopListening() throws Exception {
        server.close();
        acceptor.join(Duration.ofSeconds(5));
        assertThat(acceptor.isAlive()).isFalse();
    }

    private <T> T onLoop(Callable<T> work) throws Exception {
        return loop.submit(work).get(5, TimeUnit.SECONDS);
    }

    private Channel acquire() throws Exception {
        return onLoop(() -> pool.acquire(target)).get(5, TimeUnit.SECONDS);
    }

    private void release(Channel ch) throws Exception {
        onLoop(() -> {
            pool.release(target, ch);
            return null;
        });
    }

    /** The server's accept thread may count a connection only after the client already holds it. */
    private void assertAccepted(int connections) {
        await().atMost(Duration.ofSeconds(5)).until(() -> accepted.get() >= connections);
        assertThat(accepted.get()).isEqualTo(connections);
    }

    @Test
    void aReleasedConnectionIsReusedWhileFresh() throws Exception {
        Channel first = acquire();
        release(first);
        Channel second = acquire();
        assertThat(second).isSameAs(first);
        assertAccepted(1);
        release(second);
    }

    @Test
    void aBurstKeepsUpToTheLimitIdleClosesTheRestAndTheNextBurstUpToItConnectsNothing() throws Exception {
        // A pool of its own whose idle timeout no slow machine reaches here: only the limit closes.
        UpstreamPool patient = onLoop(() -> new UpstreamPool(loop, NioSocketChannel.class,
                SslContextBuilder.forClient().build(), DefaultAddressResolverGroup.INSTANCE,
                Duration.ofSeconds(2), Duration.ofMinutes(5), 8));
        List<Channel> burst = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            burst.add(onLoop(() -> patient.acquire(target)).get(5, TimeUnit.SECONDS));
        }
        assertAccepted(10);
        for (Channel ch : burst) {
            onLoop(() -> {
                patient.release(target, ch);
                return null;
            });
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> closedByPeer.get() == 2);   // the limit is 8
        List<Channel> again = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            again.add(onLoop(() -> patient.acquire(target)).get(5, TimeUnit.SECONDS));
        }
        assertThat(again).allMatch(Channel::isActive).doesNotHaveDuplicates();
        assertThat(burst).containsAll(again);
        assertAccepted(10);
        for (Channel ch : again) {
            ch.close().syncUninterruptibly();
        }
    }

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeoutAndNotHandedOutAgain() throws Exception {
        Channel first = acquire();
        release(first);
        long released = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).until(() -> closedByPeer.get() == 1);
        long idleMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);
        // not before the timeout (less the moment between the release and this thread's clock read)
        assertThat(idleMillis).isGreaterThanOrEqualTo(IDLE.toMillis() - 50);
        assertThat(first.isActive()).isFalse();

        Channel second = acquire();
        assertThat(second).isNotSameAs(first);
        assertAccepted(2);
        release(second);
    }

    @Test
    void aConnectionInUseIsNotSweptWhateverItsAge() throws Exception {
        Channel busy = acquire();
        Channel idleOne = acquire();
        release(idleOne);
        await().atMost(Duration.ofSeconds(5)).until(() -> closedByPeer.get() == 1);
        assertThat(idleOne.isActive()).isFalse();
        assertThat(busy.isActive()).isTrue();
        release(busy);
    }

    // -- spares

    private UpstreamPool poolWithSpares(int spares) throws Exception {
        return onLoop(() -> new UpstreamPool(loop, NioSocketChannel.class, SslContextBuilder.forClient().build(),
                DefaultAddressResolverGroup.INSTANCE, Duration.ofSeconds(2), Duration.ofMinutes(5), 8, spares, null));
    }

    @Test
    void whileConnectionsAreReusedSparesAreConnectedAheadAndTheNextRequestsFindThemReady() throws Exception {
        UpstreamPool spared = poolWithSpares(2);
        Channel first = onLoop(() -> spared.acquire(target)).get(5, TimeUnit.SECONDS);
        // A first connection to an upstream is not reuse: nothing is opened beside it.
        assertThat(onLoop(() -> spared.sparesConnecting(target))).isZero();
        onLoop(() -> {
            spared.release(target, first);
            return null;
        });
        Channel again = onLoop(() -> spared.acquire(target)).get(5, TimeUnit.SECONDS);
        assertThat(again).isSameAs(first);
        // Handing out the last idle one opens two spares in the background.
        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> spared.idleCount(target)) == 2);
        assertAccepted(3);
        for (int i = 0; i < 4; i++) {
            // each request finds one connected already (its future done as acquire returns), and tops them up
            Future<Channel> ready = onLoop(() -> spared.acquire(target));
            assertThat(ready.isDone()).isTrue();
            assertThat(ready.getNow()).isNotSameAs(first).matches(Channel::isActive);
            await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> spared.idleCount(target)) == 2);
        }
        assertAccepted(7);
    }

    @Test
    void aSpareThatFailsToConnectStopsSparesForAWhileAndTheRequestIsNotTouched() throws Exception {
        UpstreamPool spared = poolWithSpares(2);
        Channel first = onLoop(() -> spared.acquire(target)).get(5, TimeUnit.SECONDS);
        onLoop(() -> {
            spared.release(target, first);
            return null;
        });
        stopListening();                                   // the upstream stops listening; this connection stays
        Channel again = onLoop(() -> spared.acquire(target)).get(5, TimeUnit.SECONDS);
        assertThat(again).isSameAs(first).matches(Channel::isActive);
        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> spared.sparesConnecting(target)) == 0);
        assertThat(onLoop(() -> spared.idleCount(target))).isZero();
        onLoop(() -> {
            spared.release(target, again);
            return null;
        });
        // Reused again within the second after the failures: no spare is tried.
        assertThat(onLoop(() -> {
            Channel ch = spared.pollIdle(target);
            return ch == first && spared.sparesConnecting(target) == 0;
        })).isTrue();
    }

    @Test
    void sparesNeverExceedTheIdleLimitNorReplaceAPoolWithoutThem() throws Exception {
        UpstreamPool one = onLoop(() -> new UpstreamPool(loop, NioSocketChannel.class, SslContextBuilder.forClient().build(),
                DefaultAddressResolverGroup.INSTANCE, Duration.ofSeconds(2), Duration.ofMinutes(5), 1, 4, null));
        Channel first = onLoop(() -> one.acquire(target)).get(5, TimeUnit.SECONDS);
        onLoop(() -> {
            one.release(target, first);
            return null;
        });
        assertThat(onLoop(() -> {
            Channel ch = one.pollIdle(target);
            return ch == first ? one.sparesConnecting(target) : -1;
        })).isEqualTo(1);                                  // 4 asked, but only 1 may be idle
        await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(() -> one.idleCount(target)) == 1);
        assertAccepted(2);
        // The plain pool (no spares) of the other tests opens nothing when reused.
        Channel plain = acquire();
        release(plain);
        assertThat(acquire()).isSameAs(plain);
        assertThat(onLoop(() -> pool.sparesConnecting(target))).isZero();
        assertAccepted(3);
    }
}
