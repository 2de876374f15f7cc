package io.tollgate.bench.suite;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How children are started: which JDK and jar, and on which CPUs. With pinning on, the contender
 * proxy gets the upper half of the CPUs and the load generator and the mock upstream the lower
 * half (a quarter each from 4 CPUs up), so the proxies are compared on the same cores and never
 * steal the generator's or the upstream's.
 *
 * @param clientCpus taskset list of the generator's CPUs ("0"), empty when not pinned
 * @param mockCpus   taskset list of the mock upstream's CPUs, empty when not pinned
 * @param proxyCpus  taskset list of the proxy's CPUs ("1"), empty when not pinned
 * @param proxyThreads event loops of Tollgate and nginx workers
 * @param clientThreads event loops of the generator
 * @param mockThreads event loops of the mock upstream
 * @param transport  the socket layer of Tollgate's and the Netty relay's event loops, as
 *                   {@code proxy.transport} ({@code TOLLGATE_BENCH_TRANSPORT}, default auto)
 * @param busyPollMicros how long their loops poll before they sleep, as {@code proxy.busy_poll_us}
 *                   ({@code TOLLGATE_BENCH_BUSY_POLL_US}, default {@link #DEFAULT_BUSY_POLL_MICROS})
 */
public record Launch(Path javaHome, Path jar, String clientCpus, String mockCpus, String proxyCpus, int proxyThreads,
                     int clientThreads, int mockThreads, List<String> tollgateJvmOptions,
                     String transport, int busyPollMicros) {

    /**
     * As shipped: loops that sleep at once. Polling (1000 us, 100 us) took up to 0.08 ms off the
     * median at 1k-2k req/s but put the SSE per-chunk p99 from +0.17 to +0.69 and +1.06 ms: a loop
     * that never sleeps is no longer woken ahead of the JIT's and the journal's threads on its CPU
     * (README, Performance).
     */
    public static final int DEFAULT_BUSY_POLL_MICROS = 0;

    public boolean pinned() {
        return !proxyCpus.isEmpty();
    }

    List<String> pinClient() {
        return clientCpus.isEmpty() ? List.of() : List.of("taskset", "-c", clientCpus);
    }

    List<String> pinMock() {
        return mockCpus.isEmpty() ? List.of() : List.of("taskset", "-c", mockCpus);
    }

    List<String> pinProxy() {
        return proxyCpus.isEmpty() ? List.of() : List.of("taskset", "-c", proxyCpus);
    }

    /** {@code java} with {@code options} running {@code mainClass} from the bench jar, after {@code pin}. */
    List<String> java(List<String> pin, List<String> options, String mainClass, String... args) {
        return java(jar, pin, options, mainClass, args);
    }

    /** The same from another build's bench jar (the B of an A/B between two commits). */
    List<String> java(Path jar, List<String> pin, List<String> options, String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(pin);
        cmd.add(javaHome.resolve("bin/java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(options);
        cmd.add("-cp");
        cmd.add(jar.toString());
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Counts the CPUs of a taskset list such as "0", "2-3" or "0,2". */
    static int cpuCount(String list) {
        if (list.isEmpty()) {
            return Runtime.getRuntime().availableProcessors();
        }
        int n = 0;
        for (String part : list.split(",")) {
            String[] r = part.trim().split("-");
            n += r.length == 1 ? 1 : Integer.parseInt(r[1]) - Integer.parseInt(r[0]) + 1;
        }
        return n;
    }
}
