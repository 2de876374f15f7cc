package io.tollgate.proxy;

import io.netty.channel.SelectStrategy;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BusyPollStrategyTest {

    private static final long LONG_POLL = TimeUnit.SECONDS.toNanos(30);

    @Test
    void pollsUntilChannelsAreReadyAndHandsTheirCountToTheLoop() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        BusyPollStrategy strategy = new BusyPollStrategy(LONG_POLL, () -> 0);

        int strategyOrReady = strategy.calculateStrategy(() -> polls.incrementAndGet() < 1_000 ? 0 : 3, false);

        assertThat(strategyOrReady).isEqualTo(3);
        assertThat(polls).hasValue(1_000);
    }

    @Test
    void aTaskQueuedByAnotherThreadEndsThePollSoTheLoopRunsIt() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        AtomicInteger queued = new AtomicInteger();
        BusyPollStrategy strategy = new BusyPollStrategy(LONG_POLL, queued::get);

        int result = strategy.calculateStrategy(() -> {
            if (polls.incrementAndGet() == 50) {
                queued.set(1);
            }
            return 0;
        }, false);

        assertThat(result).isZero();   // no channel ready: the loop goes on to its tasks
        assertThat(polls).hasValue(50);
    }

    @Test
    void withTasksAlreadyWaitingItLooksOnceWithoutPolling() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        BusyPollStrategy strategy = new BusyPollStrategy(LONG_POLL, () -> 0);

        assertThat(strategy.calculateStrategy(() -> {
            polls.incrementAndGet();
            return 0;
        }, true)).isZero();
        assertThat(polls).hasValue(1);
    }

    @Test
    void whenTheBudgetRunsOutWithNothingReadyTheLoopSleeps() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        BusyPollStrategy strategy = new BusyPollStrategy(TimeUnit.MICROSECONDS.toNanos(200), () -> 0);

        assertThat(strategy.calculateStrategy(() -> {
            polls.incrementAndGet();
            return 0;
        }, false)).isEqualTo(SelectStrategy.SELECT);
        assertThat(polls.get()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aBudgetMustBePositive() {
        assertThatThrownBy(() -> new BusyPollStrategy(0, () -> 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
