package io.tollgate.proxy;

import io.tollgate.proxy.billing.Billing;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The event loops outrank the threads that only catch up, so that (with
 * {@code -XX:ThreadPriorityPolicy=1}) a loop woken by a packet takes the CPU from them at once.
 */
class ThreadPrioritiesTest {

    @Test
    void theLoopsRunAtTheHighestPriorityAndSettlementBelowThem() throws Exception {
        try (Gateway gw = new Gateway()) {
            Gateway.Funded acct = gw.fund("10");
            assertThat(gw.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, false)).statusCode()).isEqualTo(200);

            Map<String, Integer> priorities = Thread.getAllStackTraces().keySet().stream()
                    .collect(Collectors.toMap(Thread::getName, Thread::getPriority, (a, b) -> a));
            Map<String, Integer> loops = priorities.entrySet().stream()
                    .filter(e -> e.getKey().startsWith("tollgate-io-"))
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
            assertThat(loops).isNotEmpty();
            assertThat(loops.values()).containsOnly(Thread.MAX_PRIORITY);
            assertThat(priorities).containsEntry("tollgate-journal", Billing.BACKGROUND_PRIORITY)
                    .containsEntry("tollgate-settle", Billing.BACKGROUND_PRIORITY);
        }
    }
}
