package io.tollgate.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The probe on a real event loop held in the two ways it must tell apart: busy, and asleep. */
class LoopLagProbeTest {

    private static final Duration HOLD = Duration.ofMillis(80);

    private EventLoopGroup group;
    private LoopLagProbe probe;
    private final List<LoopLagProbe.Late> reported = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        probe = LoopLagProbe.start(group, Duration.ofMillis(1), Duration.ofMillis(40), reported::add);
    }

    @AfterEach
    void stop() {
        probe.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void aLoopBusyWithAnotherTaskIsLateWithItsCpuGrownByTheGap() throws Exception {
        afterTheFirstTicks(() -> {
            long until = System.nanoTime() + HOLD.toNanos();
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            return null;
        });
        LoopLagProbe.Late late = theHold();
        assertThat(late.gap()).isGreaterThanOrEqualTo(late.late());
        assertThat(late.cpu()).as("a spinning loop's CPU").isGreaterThan(Duration.ofMillis(50));
        assertThat(late.thread()).startsWith("multiThreadIoEventLoopGroup");
        assertThat(late.toString()).startsWith("loop-lag multiThreadIoEventLoopGroup").contains(" late ");
    }

    @Test
    void aLoopAsleepIsLateWithItsCpuAlmostUnmoved() throws Exception {
        afterTheFirstTicks(() -> {
            Thread.sleep(HOLD);
            return null;
        });
        LoopLagProbe.Late late = theHold();
        assertThat(late.cpu()).as("a sleeping loop's CPU").isLessThan(Duration.ofMillis(20));
    }

    /**
     * Runs {@code hold} on the loop once the probe has ticked there: scheduled tasks of one loop run
     * in deadline order, so the 1 ms ticks before 20 ms come first. A hold submitted at once could
     * run before the first tick, which has no earlier tick to be late against (CI of 8ddb8cb).
     */
    private void afterTheFirstTicks(Callable<Void> hold) throws Exception {
        group.next().schedule(hold, 20, TimeUnit.MILLISECONDS).get(5, TimeUnit.SECONDS);
    }

    /** The report of the hold: late by most of it (a stray late tick of the machine is shorter). */
    private LoopLagProbe.Late theHold() {
        Duration most = HOLD.multipliedBy(3).dividedBy(4);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> reported.stream().anyMatch(l -> l.late().compareTo(most) > 0));
        return reported.stream().filter(l -> l.late().compareTo(most) > 0).findFirst().orElseThrow();
    }
}
