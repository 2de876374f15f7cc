package io.tollgate.bench.suite;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The outputs of the tools the suite reads: wrk, ss, /proc, jcmd. */
class ParsersTest {

    static final String WRK = """
            Running 5s test @ http://127.0.0.1:18080/v1/chat/completions
              1 threads and 64 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency   192.62ms  176.98ms   1.17s    87.57%
                Req/Sec   431.80    211.87     0.86k    60.87%
              Latency Distribution
                 50%  128.27ms
                 75%  179.22ms
                 90%  475.81us
                 99%    1.20s
              2016 requests in 5.05s, 0.90MB read
              Socket errors: connect 0, read 3, write 0, timeout 12
              Non-2xx or 3xx responses: 7
            Requests/sec:    399.40
            Transfer/sec:    183.10KB
            """;

    @Test
    void readsWrk() {
        Wrk.Result r = Wrk.parse(WRK);
        assertThat(r.requestsPerSecond()).isEqualTo(399.40);
        assertThat(r.requests()).isEqualTo(2016);
        assertThat(r.p50()).isEqualTo(128.27);
        assertThat(r.p90()).isCloseTo(0.47581, within(1e-9));
        assertThat(r.p99()).isEqualTo(1200.0);
        assertThat(r.non2xx()).isEqualTo(7);
        assertThat(r.socketErrors()).isEqualTo(15);
    }

    @Test
    void quotesLuaStrings() {
        assertThat(Wrk.luaString("{\"model\":\"m\"}\n\\")).isEqualTo("\"{\\\"model\\\":\\\"m\\\"}\\n\\\\\"");
    }

    static final String SS = """
            0      0      127.0.0.1:8080  127.0.0.1:50000
            \t cubic wscale:7,7 rto:204 mss:32768 bytes_sent:300 bytes_acked:301 bytes_received:300000 segs_out:20
            4096   0      127.0.0.1:8080  127.0.0.1:50002
            \t cubic bytes_received:10000
            0      1000   127.0.0.1:41000 127.0.0.1:9999
            \t cubic bytes_sent:60000 bytes_acked:50001 bytes_received:0
            0      0      127.0.0.1:9999  127.0.0.1:41000
            \t cubic bytes_sent:0 bytes_acked:1 bytes_received:50000
            """;

    @Test
    void readsSocketCounters() {
        List<SocketStats.Sock> socks = SocketStats.parse(SS);
        assertThat(socks).hasSize(4);
        assertThat(socks.get(0)).isEqualTo(new SocketStats.Sock("127.0.0.1:8080", 8080, "127.0.0.1:50000", 50000, 0, 0, 301, 300_000));
        assertThat(socks.get(2).sendQ()).isEqualTo(1000);
    }

    @Test
    void heldIsReadFromClientsMinusWrittenUpstream() {
        List<SocketStats.Sock> after = SocketStats.parse(SS);
        // read: 300,000 + (10,000 - 4,096 unread); written: 50,001 acked + 1,000 queued.
        assertThat(SocketStats.heldByProxy(List.of(), after, 8080, 9999)).isEqualTo(300_000 + 5_904 - 51_001);
        // Counted from the earlier snapshot for sockets that were already there.
        assertThat(SocketStats.heldByProxy(after, after, 8080, 9999)).isZero();
        assertThat(SocketStats.receivedBy(List.of(), after, 9999)).isEqualTo(50_000);
    }

    @Test
    void readsTheHeapOfGcHeapInfo() {
        String g1 = """
                12345:
                 garbage-first heap   total reserved 6172672K, committed 393216K, used 4479K [0x0000000687400000, 0x0000000800000000)
                  region size 4096K, 1 young (4096K), 0 survivors (0K)
                 Metaspace       used 1000K, committed 1200K, reserved 1114112K
                """;
        ProcStats.Heap h = ProcStats.parseHeap(g1).orElseThrow();
        assertThat(h.committedBytes()).isEqualTo(393_216L * 1024);
        assertThat(h.usedBytes()).isEqualTo(4_479L * 1024);

        String serial = """
                 def new generation   total 9216K, used 1000K [0x0, 0x0, 0x0)
                 tenured generation   total 20480K, used 3000K [0x0, 0x0, 0x0)
                 Metaspace       used 1000K, committed 1200K, reserved 1114112K
                """;
        ProcStats.Heap s = ProcStats.parseHeap(serial).orElseThrow();
        assertThat(s.committedBytes()).isEqualTo((9_216L + 20_480) * 1024);
        assertThat(s.usedBytes()).isEqualTo(4_000L * 1024);
        assertThat(ProcStats.parseHeap("nothing here")).isEmpty();
    }

    @Test
    void readsProcStatus() {
        String status = "Name:\tjava\nVmHWM:\t  412345 kB\nVmRSS:\t  300000 kB\n";
        assertThat(ProcStats.statusField(status, "VmRSS:")).isEqualTo(300_000);
        assertThat(ProcStats.statusField(status, "VmHWM:")).isEqualTo(412_345);
        assertThat(ProcStats.statusField(status, "VmSwap:")).isZero();
    }

    @Test
    void readsEachCpusBusyAndTotalTimeFromProcStat() {
        String stat = """
                cpu  300 10 200 5000 40 0 6 7 0 0
                cpu0 250 10 150 1000 20 0 5 7 0 0
                cpu1 50 0 50 4000 20 0 1 0 0 0
                intr 123 4 5
                ctxt 999
                """;
        long[][] cpus = ProcStats.parseCpuTicks(stat);
        assertThat(cpus).hasDimensions(2, 2);
        // busy: user + nice + system + irq + softirq + steal; total adds idle and iowait
        assertThat(cpus[0]).containsExactly(250 + 10 + 150 + 5 + 7, 1442);
        assertThat(cpus[1]).containsExactly(101, 4121);
    }

    @Test
    void thisMachinesCpusAreReadAndEachBusyAtMostAllTheTime() {
        long[][] cpus = ProcStats.cpuTicks();
        assertThat(cpus.length).isGreaterThanOrEqualTo(Runtime.getRuntime().availableProcessors());
        for (long[] c : cpus) {
            assertThat(c[1]).isPositive();
            assertThat(c[0]).isBetween(0L, c[1]);
        }
    }

    @Test
    void thisProcessHasMemoryCpuAndLimits() {
        long self = ProcessHandle.current().pid();
        assertThat(ProcStats.rss(self)).isPositive();
        assertThat(ProcStats.peakRss(self)).isGreaterThanOrEqualTo(ProcStats.rss(self) / 2);
        assertThat(ProcStats.cpuNanos(self)).isPositive();
        assertThat(ProcStats.openFileLimits()[1]).isGreaterThanOrEqualTo(ProcStats.openFileLimits()[0]);
    }

    @Test
    void countsTasksetLists() {
        assertThat(Launch.cpuCount("1")).isEqualTo(1);
        assertThat(Launch.cpuCount("2-3")).isEqualTo(2);
        assertThat(Launch.cpuCount("0,2-5")).isEqualTo(5);
    }
}
