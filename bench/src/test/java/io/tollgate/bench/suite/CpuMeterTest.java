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

    /**
     * A phase measured in slices counts only its slices: a thread that spins 60 ms and then
     * idles 60 ms in each of two counted spans, and spins a second between them, used about half
     * of the counted time, and the process about 120 ms of CPU in all.
     */
    @Test
    void aPausedMeterCountsNothingUntilItResumes() throws Exception {
        try (Spinner probe = new Spinner("meter-probe")) {
            CpuMeter meter = CpuMeter.paused(selfContender());
            probe.spin(300);                      // before the first slice: not counted
            meter.resume();
            probe.spin(60);
            Thread.sleep(60);
            meter.pause();
            probe.spin(1_000);                    // between the slices: not counted
            meter.resume();
            probe.spin(60);
            Thread.sleep(60);
            Results.Cpu cpu = meter.stop(1_000);

            Results.ThreadUse use = cpu.threads().stream().filter(t -> t.name().equals("meter-probe")).findFirst().orElseThrow();
            assertThat(use.cpuMsPerSecond()).as("the probe's CPU a second of the counted time").isBetween(250.0, 750.0);
            assertThat(cpu.proxyMicrosPerRequest()).as("the process's CPU a request over 1,000 requests, µs")
                    .isGreaterThanOrEqualTo(60.0).isLessThan(800.0);
        }
    }

    /**
     * A span whose load ends before the span does (Tollgate catching up with its database): the
     * thread busy through the load reads as busy through it, not as diluted by the wait after it,
     * and what it spends in that wait still counts.
     */
    @Test
    void threadRatesAreASecondOfLoadWhenTheLoadEndsBeforeTheSpan() throws Exception {
        try (Spinner probe = new Spinner("load-probe")) {
            CpuMeter meter = CpuMeter.paused(selfContender());
            meter.resume();
            probe.spin(100);                      // the load: the probe busy throughout
            meter.loadEnded();
            Thread.sleep(300);                    // catching up: counted, not as load time
            probe.spin(20);
            meter.pause();
            Results.Cpu cpu = meter.stop(1_000);

            Results.ThreadUse use = cpu.threads().stream().filter(t -> t.name().equals("load-probe")).findFirst().orElseThrow();
            // 120 ms over ~0.1 s of load: ~1,200 ms a second (600 if another process took half the CPU);
            // over the whole ~0.42 s span it would be under 300 however much CPU the probe got
            assertThat(use.cpuMsPerSecond()).as("the probe's CPU a second of load").isGreaterThan(400.0);
        }
    }

    private static Contender selfContender() {
        return new Contender() {
            public String name() { return "self"; }
            public String host() { return "127.0.0.1"; }
            public int port() { return 0; }
            public Map<String, String> headers() { return Map.of(); }
            public List<Long> proxyPids() { return List.of(ProcessHandle.current().pid()); }
            public boolean alive() { return true; }
            public String log() { return "-"; }
            public void close() { }
        };
    }

    /** A thread of one name that stays alive (its CPU stays readable) and spins when asked. */
    private static final class Spinner implements AutoCloseable {
        private final java.util.concurrent.SynchronousQueue<Long> asks = new java.util.concurrent.SynchronousQueue<>();
        private final java.util.concurrent.SynchronousQueue<Boolean> dones = new java.util.concurrent.SynchronousQueue<>();
        private final Thread thread;

        Spinner(String name) {
            thread = new Thread(() -> {
                try {
                    for (long millis = asks.take(); millis >= 0; millis = asks.take()) {
                        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
                        while (System.nanoTime() < end) {
                            Thread.onSpinWait();
                        }
                        dones.put(true);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, name);
            thread.start();
        }

        /** Spins about {@code millis} ms of CPU on this thread, and returns when done. */
        void spin(long millis) throws InterruptedException {
            asks.put(millis);
            dones.take();
        }

        @Override
        public void close() throws InterruptedException {
            asks.put(-1L);
            thread.join();
        }
    }

    @Test
    void parsesASchedstatLine() {
        assertThat(ProcStats.parseSchedstat("123456789 2345678 42\n")).containsExactly(123_456_789L, 2_345_678L, 42L);
        assertThat(ProcStats.parseSchedstat("")).isNull();
        assertThat(ProcStats.parseSchedstat("1 2 x")).isNull();
    }
}
