package io.tollgate.bench.suite;

import io.tollgate.bench.load.PhaseStats;
import io.tollgate.bench.load.RunResult;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pieces of a phase measured in interleaved rounds: the order, the slices, their sums. */
class RoundsTest {

    @Test
    void eachRoundStartsOneContenderFurtherAlong() {
        List<String> cs = List.of("direct", "nginx", "netty", "tollgate");

        assertThat(Suite.rotated(cs, 0)).containsExactly("direct", "nginx", "netty", "tollgate");
        assertThat(Suite.rotated(cs, 1)).containsExactly("nginx", "netty", "tollgate", "direct");
        assertThat(Suite.rotated(cs, 2)).containsExactly("netty", "tollgate", "direct", "nginx");
        assertThat(Suite.rotated(cs, 5)).containsExactly("nginx", "netty", "tollgate", "direct");
        assertThat(Suite.rotated(List.<String>of(), 3)).isEmpty();
        assertThat(cs).as("the list given is left alone").containsExactly("direct", "nginx", "netty", "tollgate");
    }

    @Test
    void aPhaseIsSplitInEqualSlicesOneARound() {
        Settings full = Settings.forFullRun();

        assertThat(full.rounds()).isGreaterThan(1);
        assertThat(full.slice(full.rateDuration()).multipliedBy(full.rounds())).isEqualTo(full.rateDuration());
        assertThat(full.slice(Duration.ofSeconds(20)).toMillis() * full.rounds()).isBetween(19_990L, 20_000L);
    }

    @Test
    void fewerThanOneRoundIsRefused() {
        Settings s = Settings.forQuickRun();

        assertThatThrownBy(() -> new Settings(s.quick(), 0, s.warmup(), s.rates(), s.rateDuration(), s.rateConnections(),
                s.grace(), s.saturation(), s.saturationConnections(), s.sseRate(), s.sseWarmup(), s.sseDuration(),
                s.sseChunks(), s.sseChunkDelayMs(), s.sseConnections(), s.uploadWarmup(), s.uploadDuration(),
                s.uploadConnections(), s.uploadBytes(), s.probeStep(), s.probeSettle(), s.streams(), s.streamChunks(),
                s.streamChunkDelayMs(), s.streamOpenRate(), s.streamHold()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rounds");
    }

    @Test
    void twoSlicesOfARunAddUpTheirRequestsLatenciesAndTime() {
        PhaseStats a = new PhaseStats();
        a.ok = 100;
        a.errors = 1;
        a.latency.recordValue(1_000);
        a.lastError = "first";
        PhaseStats b = new PhaseStats();
        b.ok = 300;
        b.non2xx = 2;
        b.latency.recordValue(3_000);
        b.latency.recordValue(5_000);

        RunResult sum = new RunResult(2_000, 5.0, a, 230, 1, 4).plus(new RunResult(2_000, 4.0, b, 230, 2, 6));

        assertThat(sum.targetRate()).isEqualTo(2_000);
        assertThat(sum.seconds()).isEqualTo(9.0);
        assertThat(sum.stats().ok).isEqualTo(400);
        assertThat(sum.stats().failures()).isEqualTo(3);
        assertThat(sum.stats().latency.getTotalCount()).isEqualTo(3);
        assertThat(sum.stats().latency.getMaxValue()).isBetween(4_990L, 5_010L);
        assertThat(sum.stats().lastError).isEqualTo("first");
        assertThat(sum.achievedRate()).isEqualTo(400 / 9.0);
        assertThat(sum.generatorGcCount()).isEqualTo(3);
        assertThat(sum.generatorGcMillis()).isEqualTo(10);
        assertThat(a.ok).as("the slices themselves are left alone").isEqualTo(100);
    }

    @Test
    void theCatchingUpOfSlicesIsTheWorstOfThem() {
        Contender.Settled quick = new Contender.Settled(10, true, 200);
        Contender.Settled slow = new Contender.Settled(4, false, 1_500);

        assertThat(quick.worst(slow)).isEqualTo(new Contender.Settled(10, false, 1_500));
        assertThat(Contender.Settled.NOTHING.worst(quick)).isEqualTo(quick);
    }
}
