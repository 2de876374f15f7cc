package io.tollgate.proxy;

import io.tollgate.proxy.chat.ContentRules;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProxyConfigTest {

    private final ProxyConfig defaults = ProxyConfig.defaults();

    @Test
    void eachWitherChangesOnlyWhatItNames() {
        ProxyConfig changed = defaults.withIoThreads(3);

        assertThat(changed.ioThreads()).isEqualTo(3);
        assertThat(changed.withIoThreads(defaults.ioThreads())).isEqualTo(defaults);

        ProxyConfig timeouts = defaults.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3));
        assertThat(List.of(timeouts.upstreamConnectTimeout(), timeouts.upstreamFirstByteTimeout(), timeouts.upstreamIdleTimeout()))
                .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3));
        assertThat(timeouts.withTimeouts(defaults.upstreamConnectTimeout(), defaults.upstreamFirstByteTimeout(),
                defaults.upstreamIdleTimeout())).isEqualTo(defaults);
    }

    @Test
    void withersChainWithoutLosingEarlierChanges() {
        ProxyConfig c = defaults.withHostPort("127.0.0.1", 0)
                .withMessageLimits(5, 100)
                .withFailover(1, 0)
                .withMaxBodyBytes(1024)
                .withContentRules(ContentRules.of(List.of("forbidden"), List.of()));

        assertThat(c.host()).isEqualTo("127.0.0.1");
        assertThat(c.port()).isZero();
        assertThat(c.maxMessages()).isEqualTo(5);
        assertThat(c.maxMessageChars()).isEqualTo(100);
        assertThat(c.maxUpstreamAttempts()).isEqualTo(1);
        assertThat(c.replayBufferBytes()).isZero();
        assertThat(c.maxBodyBytes()).isEqualTo(1024);
        assertThat(c.contentRules()).isNotEqualTo(ContentRules.NONE);
        assertThat(c.billing()).isEqualTo(defaults.billing());
    }

    @Test
    void aWitherStillGoesThroughTheChecks() {
        assertThatThrownBy(() -> defaults.withFailover(0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> defaults.withMessageLimits(-1, 10)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aBusyPollIsAtMostTenMillisecondsAndNeedsEpollOrNio() {
        assertThat(defaults.busyPoll()).isZero();
        assertThat(defaults.withTransport(Transport.NIO).withBusyPoll(Duration.ofMillis(10)).busyPoll())
                .isEqualTo(ProxyConfig.MAX_BUSY_POLL);
        assertThatThrownBy(() -> defaults.withBusyPoll(Duration.ofNanos(10_000_001)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("between 0 and 10000 us");
        assertThatThrownBy(() -> defaults.withBusyPoll(Duration.ofNanos(-1000)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> defaults.withTransport(Transport.IO_URING).withBusyPoll(Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not io_uring");
    }
}
