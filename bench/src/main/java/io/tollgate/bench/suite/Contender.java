package io.tollgate.bench.suite;

import java.util.List;
import java.util.Map;

/** Something the load is sent to: the mock upstream itself, nginx or a plain Netty relay in front of it, or Tollgate. */
public interface Contender extends AutoCloseable {

    String DIRECT = "direct";
    String NGINX = "nginx";
    /** A plain Netty relay, no feature: the floor of Tollgate's stack. */
    String NETTY = "netty";
    String TOLLGATE = "tollgate";
    /**
     * A second Tollgate beside the first, with TOLLGATE_BENCH_B_JVM_OPTS added to its JVM options
     * and TOLLGATE_BENCH_B_SERVER_ARGS to its arguments: an A/B comparison measured in the same
     * rounds (or, with neither set, an A/A one: the noise between two identical proxies).
     */
    String TOLLGATE_B = "tollgate-b";
    /** Every name {@code --contenders} takes, in report order. */
    List<String> NAMES = List.of(DIRECT, NGINX, NETTY, TOLLGATE, TOLLGATE_B);

    String name();

    String host();

    int port();

    /** Headers every request carries (the key the contender expects). */
    Map<String, String> headers();

    /** The processes whose memory and CPU are the proxy's; empty for {@code direct}. */
    List<Long> proxyPids();

    /** The proxy's JVM, for jcmd; -1 when it is not a JVM. */
    default long jvmPid() {
        return -1;
    }

    boolean alive();

    /** Waits until the contender's background work (Tollgate's settlements) has caught up. */
    default Settled settle() {
        return Settled.NOTHING;
    }

    /**
     * What {@link #settle} found: the most outcomes queued since the last call, whether they
     * drained, and how long after the call the last of them was in the database (stats lines come
     * once a second, so to within a second).
     */
    record Settled(long maxPending, boolean drained, long drainMillis) {
        public static final Settled NOTHING = new Settled(0, true, 0);

        /** The worst of two slices' catching up. */
        Settled worst(Settled o) {
            return new Settled(Math.max(maxPending, o.maxPending), drained && o.drained, Math.max(drainMillis, o.drainMillis));
        }
    }

    /** Where its output went, for error messages. */
    String log();

    @Override
    void close();
}
