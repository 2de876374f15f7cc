package io.tollgate.bench.suite;

import io.tollgate.bench.report.JmhTable;
import io.tollgate.bench.report.Report;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The benchmark suite: starts the mock upstream, nginx and Tollgate as processes of their own,
 * runs the scenarios against each in turn and writes the report and its plots. {@code bench/run.sh}
 * is the documented way in: it builds, installs nginx and wrk, pins CPUs and calls this.
 */
@Command(name = "tollgate-bench", mixinStandardHelpOptions = true,
        description = "Runs Tollgate's benchmark scenarios against direct, nginx and tollgate; writes a report.")
public final class SuiteMain implements Callable<Integer> {

    @Option(names = "--quick", description = "short runs: a smoke test of every scenario in a few minutes")
    boolean quick;

    @Option(names = "--only", split = ",", description = "scenarios to run, of: chat, sse, upload, streams (default: all)")
    List<String> only = new ArrayList<>();

    @Option(names = "--contenders", split = ",", description = "contenders to measure, of: direct, nginx, netty (a plain Netty relay, the floor of Tollgate's "
            + "stack), tollgate, tollgate-b (a second Tollgate with TOLLGATE_BENCH_B_JVM_OPTS and TOLLGATE_BENCH_B_SERVER_ARGS "
            + "added, for an A/B run; not in the default) (default: direct, nginx, netty, tollgate)")
    List<String> contenders = new ArrayList<>(List.of(Contender.DIRECT, Contender.NGINX, Contender.NETTY, Contender.TOLLGATE));

    @Option(names = "--results", description = "directory of the report (default: ${DEFAULT-VALUE})")
    Path resultsDir = Path.of("bench/results");

    @Option(names = "--name", description = "base name of the report's files (default: <date>-run)")
    String name;

    @Option(names = "--commit", description = "the commit measured, for the report")
    String commit = "unknown";

    @Option(names = "--client-cpus", description = "taskset CPU list of the load generator; empty: no pinning")
    String clientCpus = "";

    @Option(names = "--services-cpus", description = "CPUs PostgreSQL and Redis were moved to by run.sh (empty: not pinned)")
    String servicesCpus = "";

    @Option(names = "--pg-idle", description = "1 when run.sh put PostgreSQL's processes at SCHED_IDLE (0: left alone)")
    int pgIdle;

    @Option(names = "--autogroup-off", description = "1 when run.sh turned the kernel's scheduler autogroups off for the run")
    int autogroupOff;

    @Option(names = "--kdamond-idle", description = "how many kdamond threads run.sh put at SCHED_IDLE (0: left alone)")
    int kdamondIdle;

    @Option(names = "--others-idle", description = "the machine's other services run.sh put at SCHED_IDLE, by name (empty: none)")
    String othersIdle = "";

    @Option(names = "--mock-cpus", description = "taskset CPU list of the mock upstream (default: the generator's)")
    String mockCpus;

    @Option(names = "--proxy-cpus", description = "taskset CPU list of the proxies; empty: no pinning")
    String proxyCpus = "";

    @Option(names = "--nginx", description = "the nginx binary; empty to skip the nginx contender")
    String nginx = "";

    @Option(names = "--nginx-skip-reason", description = "why nginx is skipped, for the report")
    String nginxSkipReason = "nginx is not installed";

    @Option(names = "--wrk", description = "the wrk binary for saturation; empty for the Java generator in closed loop")
    String wrk = "";

    @Option(names = "--pg", description = "JDBC URL of a database on the PostgreSQL Tollgate's bench database is created on "
            + "(default: $TOLLGATE_BENCH_PG or jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres)")
    String pg = System.getenv().getOrDefault("TOLLGATE_BENCH_PG", "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");

    @Option(names = "--tollgate-jvm-options", description = "JVM options of the Tollgate process (default: ${DEFAULT-VALUE})")
    String tollgateJvmOptions = "-Dio.netty.leakDetection.level=disabled -XX:MetaspaceSize=256m"
            + " --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED -XX:ThreadPriorityPolicy=1";

    @Option(names = "--jmh-json", description = "JMH's JSON results to include in the report")
    Path jmhJson;

    @Option(names = "--command", description = "the command line to print in the report (default: ${DEFAULT-VALUE})")
    String command = "bench/run.sh";

    public static void main(String[] args) {
        System.exit(new CommandLine(new SuiteMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        List<String> scenarios = only.isEmpty() ? Suite.SCENARIOS : only;
        for (String s : scenarios) {
            if (!Suite.SCENARIOS.contains(s)) {
                throw new CommandLine.ParameterException(new CommandLine(this), "unknown scenario " + s + "; one of " + Suite.SCENARIOS);
            }
        }
        for (String c : contenders) {
            if (!Contender.NAMES.contains(c)) {
                throw new CommandLine.ParameterException(new CommandLine(this), "unknown contender " + c + "; one of " + Contender.NAMES);
            }
        }
        Settings settings = quick ? Settings.forQuickRun() : Settings.forFullRun();
        String sseRate = System.getenv("TOLLGATE_BENCH_SSE_RATE");
        if (sseRate != null && !sseRate.isBlank()) {
            settings = settings.withSseRate(Double.parseDouble(sseRate.strip()));
        }
        ZonedDateTime started = ZonedDateTime.now();
        String base = name != null ? name : started.format(DateTimeFormatter.ISO_LOCAL_DATE) + "-run";
        Path javaHome = Path.of(System.getProperty("java.home"));
        Path jar = Path.of(SuiteMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String mock = mockCpus == null ? clientCpus : mockCpus;
        Launch launch = new Launch(javaHome, jar, clientCpus, mock, proxyCpus, Launch.cpuCount(proxyCpus),
                Launch.cpuCount(clientCpus), Launch.cpuCount(mock),
                TollgateProcess.words(tollgateJvmOptions),
                System.getenv().getOrDefault("TOLLGATE_BENCH_TRANSPORT", "auto"),
                Integer.parseInt(System.getenv().getOrDefault("TOLLGATE_BENCH_BUSY_POLL_US",
                        Integer.toString(Launch.DEFAULT_BUSY_POLL_MICROS))));

        Results results = new Results();
        results.settings = settings;
        results.scenarios = scenarios;
        results.command = command;
        results.startedAt = started.toString();
        if (nginx.isEmpty()) {
            results.notes.add("nginx: skipped: " + nginxSkipReason);
        }
        if (wrk.isEmpty()) {
            results.notes.add("wrk is not installed: saturation used the Java generator in closed loop");
        }
        machine(results, launch, started);

        Path dir = Files.createTempDirectory("tollgate-bench-");
        Suite.log("logs of the processes in " + dir);
        Suite suite = new Suite(settings, launch, dir, nginx.isEmpty() ? null : nginx, wrk.isEmpty() ? null : wrk, pg,
                contenders, results);
        Thread cleanup = new Thread(suite::close, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            suite.start();
            for (String scenario : scenarios) {
                Suite.log("scenario " + scenario);
                suite.run(scenario);
            }
        } finally {
            suite.close();
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
        results.machine.put("load average at the end", loadAverage());
        results.minutes = (System.nanoTime() - startNanos) / 60e9;
        if (jmhJson != null && Files.exists(jmhJson)) {
            String txt = jmhJson.getFileName().toString().replace(".json", ".txt");
            results.jmh = JmhTable.render(jmhJson, txt);
        }
        Files.createDirectories(resultsDir);
        for (Map.Entry<String, String> f : Report.render(results, base).entrySet()) {
            Files.writeString(resultsDir.resolve(f.getKey()), f.getValue(), StandardCharsets.UTF_8);
        }
        Suite.log("report: " + resultsDir.resolve(base + ".md"));
        return 0;
    }

    private final long startNanos = System.nanoTime();

    private void machine(Results r, Launch launch, ZonedDateTime started) {
        Map<String, String> m = r.machine;
        m.put("date", started.format(DateTimeFormatter.RFC_1123_DATE_TIME));
        m.put("commit", commit);
        m.put("CPUs (nproc)", Integer.toString(Runtime.getRuntime().availableProcessors()) + " available to the generator; "
                + onlineCpus() + " online");
        m.put("CPU model", cpuModel());
        m.put("kernel", firstLine(ProcStats.read(Path.of("/proc/sys/kernel/osrelease"))));
        m.put("memory", memTotal());
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " ("
                + System.getProperty("java.vm.vendor") + ")");
        m.put("nginx", nginx.isEmpty() ? "not run" : NginxProcess.version(nginx));
        m.put("wrk", wrk.isEmpty() ? "not installed" : Wrk.version(wrk));
        m.put("PostgreSQL", postgres());
        m.put("CPU pinning", launch.pinned()
                ? (launch.clientCpus().equals(launch.mockCpus())
                        ? "generator and mock upstream share CPU " + launch.clientCpus()
                        : "generator on CPU " + launch.clientCpus() + ", mock upstream on CPU " + launch.mockCpus())
                + ", proxy (nginx workers / Tollgate JVM) on CPU " + launch.proxyCpus() + " (taskset); "
                + (servicesCpus.isBlank() ? "PostgreSQL and Redis not pinned" : "PostgreSQL and Redis on CPU " + servicesCpus)
                : "none");
        m.put("PostgreSQL priority", pgIdle == 0 ? "as started"
                : "SCHED_IDLE for the run (its settlement batches are off the request path; in a deployment it has its own "
                        + "machine): it works in the time " + (servicesCpus.isBlank() ? "the other processes leave" : "CPU " + servicesCpus + " leaves")
                        + ", and each phase ends when every outcome is in it");
        if (autogroupOff > 0) {
            m.put("scheduler autogroups", "off for the run (kernel.sched_autogroup_enabled; with them on, each PostgreSQL "
                    + "backend is a group of its own and weighs as much as the generator and the mock together, whatever "
                    + "its priority)");
        }
        if (kdamondIdle > 0) {
            m.put("kdamond", "SCHED_IDLE for the run (the kernel's DAMON memory monitor, which the VM platform runs: it "
                    + "took 7-23 ms of CPU every 0.5 s, and requests of every contender stalled behind it)");
        }
        if (!othersIdle.isBlank()) {
            m.put("the machine's other services", othersIdle.strip() + ": SCHED_IDLE for the run (no contender uses them; "
                    + "RabbitMQ's Erlang VM ran in bursts of up to 4 ms on both CPUs, just before a woken event loop or "
                    + "mock upstream waited for its CPU)");
        }
        m.put("proxy threads", launch.proxyThreads() + " (Tollgate event loops = nginx worker_processes)");
        m.put("Tollgate JVM options", String.join(" ", launch.tollgateJvmOptions()) + " (database pool 10, as `database.pool_size`'s default)");
        long[] files = ProcStats.openFileLimits();
        m.put("open files (soft / hard)", files[0] + " / " + files[1]);
        m.put("load average at the start", loadAverage());
    }

    private static String onlineCpus() {
        String s = ProcStats.read(Path.of("/sys/devices/system/cpu/online"));
        return s == null ? "?" : s.trim();
    }

    private static String cpuModel() {
        String info = ProcStats.read(Path.of("/proc/cpuinfo"));
        if (info != null) {
            for (String line : info.split("\n")) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        }
        return "unknown";
    }

    private static String memTotal() {
        long kb = ProcStats.statusField(String.valueOf(ProcStats.read(Path.of("/proc/meminfo"))), "MemTotal:");
        return String.format(java.util.Locale.ROOT, "%.1f GiB", kb / 1024.0 / 1024.0);
    }

    private static String loadAverage() {
        String s = ProcStats.read(Path.of("/proc/loadavg"));
        return s == null ? "?" : String.join(" ", Arrays.copyOf(s.trim().split(" "), 3)) + " (1, 5, 15 min)";
    }

    private static String firstLine(String s) {
        return s == null ? "?" : s.trim().split("\n")[0];
    }

    private String postgres() {
        try (Connection c = DriverManager.getConnection(pg); Statement st = c.createStatement()) {
            StringBuilder sb = new StringBuilder();
            try (ResultSet rs = st.executeQuery("SHOW server_version")) {
                rs.next();
                sb.append(rs.getString(1));
            }
            for (String setting : List.of("synchronous_commit", "fsync", "shared_buffers", "max_connections")) {
                try (ResultSet rs = st.executeQuery("SHOW " + setting)) {
                    rs.next();
                    sb.append(", ").append(setting).append(' ').append(rs.getString(1));
                }
            }
            return sb.toString();
        } catch (Exception e) {
            return "unreachable: " + e.getMessage();
        }
    }
}
