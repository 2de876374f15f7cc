package io.tollgate.bench.report;

import io.tollgate.bench.load.PhaseStats;
import io.tollgate.bench.load.RunResult;
import io.tollgate.bench.suite.Contender;
import io.tollgate.bench.suite.ProcStats;
import io.tollgate.bench.suite.Results;
import io.tollgate.bench.suite.Settings;
import io.tollgate.bench.suite.UploadProbe;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ReportTest {

    /** A run at {@code rate} whose latencies are spread evenly between {@code lowUs} and {@code highUs}. */
    static Results.Run run(double rate, long lowUs, long highUs, long failures) {
        PhaseStats st = new PhaseStats();
        for (int i = 0; i < 10_000; i++) {
            long v = lowUs + (highUs - lowUs) * i / 9_999;
            st.latency.recordValue(v);
            st.uncorrected.recordValue(v);
            st.ttfb.recordValue(v);
            st.gaps.recordValue(10_000 + v / 10);
        }
        st.ok = 10_000;
        st.sent = 10_000 + failures;
        st.non2xx = failures;
        RunResult r = new RunResult(rate, 5, st, 200, 0, 0);
        return new Results.Run(r, new Results.Cpu(40, Double.NaN, Double.NaN), Contender.Settled.NOTHING, null);
    }

    static Results results() {
        Results r = new Results();
        r.settings = Settings.forQuickRun();
        r.command = "bench/run.sh --quick";
        r.machine.put("CPU model", "test");
        r.notes.add("streams: measured at 9,400 concurrent streams");
        for (int rate : List.of(1_000, 2_000)) {
            r.rate(rate).put("direct", run(rate, 50, 150, 0));
            r.rate(rate).put("nginx", run(rate, 80, 400, 0));
            r.rate(rate).put("tollgate", run(rate, 100, 900, 0));
        }
        r.saturation.put("direct", new Results.Saturation("wrk", 40_000, 200_000, 1, 5, 0, Results.Cpu.NONE, Contender.Settled.NOTHING, null, null));
        r.saturation.put("nginx", new Results.Saturation("wrk", 20_000, 100_000, 1, 5, 0, new Results.Cpu(20, Double.NaN, Double.NaN), Contender.Settled.NOTHING, null, null));
        r.saturation.put("tollgate", new Results.Saturation("wrk", 10_000, 50_000, 1, 5, 0, new Results.Cpu(90, 200, 7),
                new Contender.Settled(12_345, true, 3_400), "Lock:transactionid 80%", null));
        r.sse.put("direct", run(50, 1_000, 2_000, 0));
        r.sse.put("nginx", run(50, 1_100, 2_200, 0));
        r.sse.put("tollgate", run(50, 1_200, 2_300, 0));
        r.uploads.put("direct", new Results.Upload(run(0, 5_000, 9_000, 0).result(), 0, 0, null, null));
        r.uploads.put("nginx", new Results.Upload(run(0, 5_000, 9_000, 0).result(), 20 << 20, 22 << 20,
                new UploadProbe.Result(0, 0, List.of(), 200), null));
        r.uploads.put("tollgate", new Results.Upload(run(0, 5_000, 9_000, 0).result(), 150 << 20, 250 << 20,
                new UploadProbe.Result(450 * 1024, 256 * 1024, List.of(), 200), null));
        r.streams.put("nginx", new Results.Streams(9_400, 9_400, 9_400, 0, 0, 20L << 20, 180L << 20, 181L << 20, null,
                List.of(new double[] {0, 20}, new double[] {5, 181}), null, null));
        r.streams.put("tollgate", new Results.Streams(9_400, 9_400, 9_400, 0, 0, 144L << 20, 300L << 20, 310L << 20,
                new ProcStats.Heap(130L << 20, 160L << 20, "g1"), List.of(new double[] {0, 144}, new double[] {5, 310}),
                null, null));
        return r;
    }

    @Test
    void marksEachTargetMetOrMissed() {
        Map<String, String> files = Report.render(results(), "2026-01-01-abc1234");
        String md = files.get("2026-01-01-abc1234.md");

        assertThat(md).contains("## Targets", "## Machine", "## Notes", "streams: measured at 9,400");
        // tollgate p50 at 2k is 0.5 ms, direct's 0.1 ms: +0.4 ms, over the 0.1 ms target.
        assertThat(targetLine(md, "p50 < 0.1 ms")).contains("+0.400 ms", "**missed**");
        // p99: 0.892 - 0.149 = +0.743 ms, under 1 ms.
        assertThat(targetLine(md, "p99 < 1 ms")).contains("| met |");
        assertThat(targetLine(md, "tollgate ≥ nginx")).contains("0.50×", "**missed**");
        assertThat(targetLine(md, "512 MB RSS")).contains("projected", "| met |");
        assertThat(targetLine(md, "never held whole")).contains("450.0 KB", "**missed**");
        assertThat(targetLine(md, "per-chunk")).contains("| met |");
    }

    @Test
    void writesAPlotPerScenarioAndReferencesIt() {
        Map<String, String> files = Report.render(results(), "r");
        String md = files.get("r.md");

        assertThat(files.keySet()).containsExactly("r.md", "r-chat-1000rps.svg", "r-chat-2000rps.svg", "r-sse-ttfb.svg",
                "r-sse-gaps.svg", "r-upload.svg", "r-streams-rss.svg");
        files.keySet().stream().filter(f -> f.endsWith(".svg")).forEach(f -> assertThat(md).contains("](" + f + ")"));
        assertThat(files.get("r-chat-2000rps.svg")).contains("data-series=\"direct\"", "data-series=\"nginx\"",
                "data-series=\"tollgate\"");
    }

    @Test
    void putsTheContendersSideBySideWithTheirDifferences() {
        String md = Report.render(results(), "r").get("r.md");
        String tollgateAt2k = md.substring(md.indexOf("### 2,000 req/s"));
        tollgateAt2k = tollgateAt2k.substring(tollgateAt2k.indexOf("| tollgate |"));
        tollgateAt2k = tollgateAt2k.substring(0, tollgateAt2k.indexOf('\n'));

        // vs direct: +p50 / +p99, vs nginx: +p50 / +p99
        assertThat(tollgateAt2k).contains("+0.400 / +0.743", "+0.260 / +0.495");
        assertThat(md).contains("| tollgate | 10,000 | 1.00 | 5.00 | 0 | 0.25× | 0.50× | 90 / 200 / 7 |");
        assertThat(md).contains("PostgreSQL backends during its saturation run", "Lock:transactionid 80%");
        assertThat(md).contains("at most 12,345 outcomes waited for the database at once, and all were in it 3.4 s after the run ended");
        assertThat(md).doesNotContain("busy share");
    }

    @Test
    void saysHowBusyEachCpuWasUnderEachContendersSaturation() {
        Results r = results();
        r.saturation.put("nginx", new Results.Saturation("wrk", 20_000, 100_000, 1, 5, 0, Results.Cpu.NONE,
                Contender.Settled.NOTHING, null, null, List.of(0.994, 0.83)));
        r.saturation.put("tollgate", new Results.Saturation("wrk", 10_000, 50_000, 1, 5, 0, Results.Cpu.NONE,
                Contender.Settled.NOTHING, null, null, List.of(0.52, 0.613)));
        String md = Report.render(r, "r").get("r.md");
        assertThat(md).contains("busy share during each contender's load",
                "nginx CPU 0 99%, CPU 1 83%; tollgate CPU 0 52%, CPU 1 61%.");
    }

    @Test
    void listsEachProxysBusiestThreadsPhaseByPhase() {
        Results r = results();
        assertThat(Report.render(r, "r").get("r.md")).doesNotContain("## The proxies' threads");

        r.contenders.addAll(List.of("direct", "nginx", "tollgate"));
        List<Results.ThreadUse> at2k = List.of(new Results.ThreadUse("loop-1", 291.2, 62.25, 3448),
                new Results.ThreadUse("journal", 40.4, 73.7, 805));
        r.rate(2_000).put("tollgate", new Results.Run(r.rate(2_000).get("tollgate").result(),
                new Results.Cpu(120, 35, 5, at2k), Contender.Settled.NOTHING, null));
        r.saturation.put("tollgate", new Results.Saturation("wrk", 10_000, 50_000, 1, 5, 0,
                new Results.Cpu(90, 200, 7, List.of(new Results.ThreadUse("loop-1", 795.5, 121.4, 619))),
                Contender.Settled.NOTHING, null, null));
        String md = Report.render(r, "r").get("r.md");

        String section = md.substring(md.indexOf("## The proxies' threads"));
        assertThat(section).contains("### tollgate").doesNotContain("### nginx", "### direct");
        assertThat(section).contains("| thread | 1,000 req/s | 2,000 req/s | saturation | SSE |");
        assertThat(section).contains("| loop-1 | — | 291.2 / 62.3 (3,448) | 795.5 / 121.4 (619) | — |");
        assertThat(section).contains("| journal | — | 40.4 / 73.7 (805) | — | — |");
        assertThat(section.indexOf("| loop-1 |")).isLessThan(section.indexOf("| journal |"));
    }

    @Test
    void splitsTollgatesCpuAtSaturationWhenThePlainRelayRan() {
        Results r = results();
        assertThat(Report.render(r, "r").get("r.md")).doesNotContain("`netty`", "plain Netty relay");

        r.contenders.addAll(List.of("direct", "nginx", "netty", "tollgate"));
        r.saturation.put("netty", new Results.Saturation("wrk", 15_000, 75_000, 1, 5, 0, new Results.Cpu(35, Double.NaN, Double.NaN),
                Contender.Settled.NOTHING, null, null));
        String md = Report.render(r, "r").get("r.md");

        assertThat(md).contains("`netty` (a plain relay on Netty's HTTP codecs");
        assertThat(md).contains("| netty | 15,000 | 1.00 | 5.00 | 0 | 0.38× | 0.75× | 35 |");
        // Tollgate 90 µs, the relay 35: 55 µs are the features.
        assertThat(md).contains("The plain Netty relay, with no feature, used 35 µs of CPU a request at saturation, Tollgate 90: "
                + "of Tollgate's, about 55 µs are its features", "(nginx: 20)");
    }

    @Test
    void showsTheSaturationRoundByRoundAndTheRatiosInEach() {
        Results r = results();
        r.saturationRounds.put("direct", List.of(41_000.0, 39_000.0));
        r.saturationRounds.put("nginx", List.of(25_000.0, 15_000.0));
        r.saturationRounds.put("tollgate", List.of(10_000.0, 12_000.0));
        String md = Report.render(r, "r").get("r.md");

        assertThat(md).contains("4 s per contender, in 2 interleaved rounds of 2.0 s");   // the quick run's saturation
        assertThat(md).contains("Round by round, req/s in the order run: direct 41,000 / 39,000; nginx 25,000 / 15,000; "
                + "tollgate 10,000 / 12,000; tollgate ÷ nginx by round: 0.40× / 0.80×.");
        assertThat(md).doesNotContain("tollgate ÷ netty", "tollgate-b ÷");

        r.saturationRounds.put("tollgate-b", List.of(11_000.0, 9_000.0));           // an A/B run's second Tollgate
        assertThat(Report.render(r, "r").get("r.md")).contains("tollgate-b 11,000 / 9,000; tollgate ÷ nginx by round: 0.40× / 0.80×; "
                + "tollgate-b ÷ tollgate by round: 1.10× / 0.75×.");
    }

    @Test
    void saysWhatWasNotMeasured() {
        Results r = new Results();
        r.settings = Settings.forQuickRun();
        r.command = "bench/run.sh --only chat";
        String md = Report.render(r, "r").get("r.md");

        assertThat(md).contains("not measured").doesNotContain("| met |").contains("RateLimiterBenchmark");
    }

    private static String targetLine(String md, String part) {
        return md.lines().filter(l -> l.startsWith("|") && l.contains(part)).findFirst().orElseThrow();
    }
}
