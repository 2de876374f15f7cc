package io.tollgate.bench.suite;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class CpuMeterTest {

    @Test
    void threadUseIsEachNamesShareOfTheElapsedTimeBusiestFirst() {
        Map<String, long[]> before = Map.of("loop", new long[] {1_000_000, 0, 1}, "journal", new long[] {5_000_000, 1_000_000, 10});
        Map<String, long[]> after = Map.of(
                "loop", new long[] {601_000_000, 100_000_000, 2_001},        // 600 ms of CPU, 100 ms waiting, 2,000 slices
                "journal", new long[] {85_000_000, 41_000_000, 810},         // 80, 40, 800
                "idle", new long[] {100_000, 0, 3},                          // 0.05 ms a second: left out
                "started", new long[] {4_000_000, 2_000_000, 20});           // new since the first reading: from 0

        List<Results.ThreadUse> use = CpuMeter.threadUse(before, after, TimeUnit.SECONDS.toNanos(2));

        assertThat(use).containsExactly(new Results.ThreadUse("loop", 300, 50, 1_000),
                new Results.ThreadUse("journal", 40, 20, 400), new Results.ThreadUse("started", 2, 1, 10));
    }

    @Test
    void readsThisProcesssThreadsByName() throws Exception {
        CountDownLatch spun = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread probe = new Thread(() -> {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(30);
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            spun.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "schedstat-probe");
        probe.start();
        Map<String, long[]> threads = new HashMap<>();
        try {
            spun.await();
            ProcStats.addThreads(ProcessHandle.current().pid(), threads);
        } finally {
            done.countDown();
            probe.join();
        }
        assertThat(threads).containsKey("schedstat-probe");
        long[] probed = threads.get("schedstat-probe");
        assertThat(probed[0]).as("CPU ns").isPositive();
        assertThat(probed[2]).as("time slices").isPositive();
        assertThat(threads.keySet()).allMatch(name -> name.length() <= 15 && name.equals(name.strip()));
    }

    @Test
    void parsesASchedstatLine() {
        assertThat(ProcStats.parseSchedstat("123456789 2345678 42\n")).containsExactly(123_456_789L, 2_345_678L, 42L);
        assertThat(ProcStats.parseSchedstat("")).isNull();
        assertThat(ProcStats.parseSchedstat("1 2 x")).isNull();
    }
}
