package io.tollgate.proxy;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

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
}
