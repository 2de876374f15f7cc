package io.tollgate.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TransportTest {

    @Test
    void autoPicksEpollWhereItRunsElseNio() {
        Transport expected = Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
        assertThat(Transport.auto()).isEqualTo(expected);
        assertThat(Transport.named("auto")).isEqualTo(expected);
        assertThat(Transport.named(" AUTO ")).isEqualTo(expected);
    }

    @Test
    void nioIsAvailableEverywhere() {
        assertThat(Transport.named("nio")).isEqualTo(Transport.NIO);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aNamedTransportIsThatOneOrARefusalSayingWhy(Transport transport) {
        assertThat(Transport.known(transport.configName())).isTrue();
        if (transport.available()) {
            assertThat(Transport.named(transport.configName().toUpperCase())).isEqualTo(transport);
        } else {
            assertThatThrownBy(() -> Transport.named(transport.configName()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("transport " + transport.configName() + " is not available here");
        }
    }

    @Test
    void anUnknownNameIsRefusedWithTheChoices() {
        assertThat(Transport.known("kqueue")).isFalse();
        assertThat(Transport.known(null)).isFalse();
        assertThatThrownBy(() -> Transport.named("kqueue"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown transport 'kqueue' (auto, io_uring, epoll or nio)");
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aGroupIsKnownByTheTransportItRuns(Transport transport) {
        assumeTrue(transport.available(), transport.configName() + " is not available here");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
        try {
            assertThat(Transport.of(group)).isEqualTo(transport);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aGroupOfNoSocketTransportIsRefused() {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        try {
            assertThatThrownBy(() -> Transport.of(group))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not an event loop group of a known transport");
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "NIO"})
    void aBusyPollingLoopAnswersASocketAndRunsTasksFromOtherThreadsWithoutWaitingOutItsPoll(Transport transport)
            throws Exception {
        assumeTrue(transport.available(), transport.configName() + " is not available here");
        // A poll far longer than the test may take: whatever happens in time happened during it.
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory(Duration.ofSeconds(30)));
        try {
            assertThat(Transport.of(group)).isEqualTo(transport);
            Channel server = new ServerBootstrap().group(group).channel(transport.serverChannel())
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ctx.writeAndFlush(msg);   // echo
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            try (Socket client = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort())) {
                client.setSoTimeout(10_000);
                for (int i = 0; i < 3; i++) {
                    client.getOutputStream().write(("ping" + i).getBytes(StandardCharsets.US_ASCII));
                    assertThat(new String(client.getInputStream().readNBytes(5), StandardCharsets.US_ASCII))
                            .isEqualTo("ping" + i);
                }
            }
            EventLoop loop = (EventLoop) group.next();
            for (int i = 0; i < 5; i++) {
                CountDownLatch passed = new CountDownLatch(1);
                loop.execute(passed::countDown);
                assertThat(passed.await(10, TimeUnit.SECONDS)).isTrue();
                // The loop finished that pass and polls again, nothing queued: a task must not wait out the poll.
                assertThat(loop.submit(() -> "ran").get(10, TimeUnit.SECONDS)).isEqualTo("ran");
            }
            server.close().sync();
            assertThat(group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS))
                    .as("a polling loop stops when asked").isTrue();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void busyPollingIsRefusedOnIoUringAndWhenNegative() {
        assertThat(Transport.IO_URING.busyPolls()).isFalse();
        assertThatThrownBy(() -> Transport.IO_URING.ioHandlerFactory(Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs the epoll or nio transport, not io_uring");
        assertThatThrownBy(() -> Transport.NIO.ioHandlerFactory(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not be negative");
        assertThat(Transport.IO_URING.ioHandlerFactory(Duration.ZERO)).isNotNull();
    }
}
