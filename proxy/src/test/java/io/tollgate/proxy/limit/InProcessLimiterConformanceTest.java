package io.tollgate.proxy.limit;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The conformance suite against the in-process limiter (no Redis). */
class InProcessLimiterConformanceTest extends LimiterConformanceTest {

    @Override
    RateLimiter rateLimiter(ManualClock clock) {
        return clock == null ? new InProcessRateLimiter() : new InProcessRateLimiter(clock::micros);
    }

    @Override
    ConcurrencySlots slots(ManualClock clock) {
        return clock == null ? new InProcessConcurrencySlots() : new InProcessConcurrencySlots(clock);
    }

    @Test
    void keysWhoseBudgetRefilledAreForgotten() {
        ManualClock clock = new ManualClock(T0);
        InProcessRateLimiter limiter = new InProcessRateLimiter(clock::micros);
        for (int i = 0; i < 5000; i++) {
            limiter.decide(newId(), LimitClass.GENERAL, 30, 1);
        }
        assertThat(limiter.trackedKeys()).as("the sweep at 4096 found every budget still in use").isEqualTo(5000);
        clock.advance(Duration.ofSeconds(3)); // every TAT (now + 2 s) has passed
        for (int i = 0; i < 4096; i++) {
            limiter.decide("same", LimitClass.GENERAL, 100_000, 1);
        }
        assertThat(limiter.trackedKeys()).isEqualTo(1);
    }
}
