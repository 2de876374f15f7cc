package io.tollgate.proxy.limit;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The time this JVM has stood still for its collectors, so that a Redis call that timed out
 * across one of our own pauses is not held against Redis: a fresh JVM's first young collections
 * took 40-70 ms in the bench, past the 50 ms timeout, while Redis's answers waited in the socket.
 * Counts the stop-the-world collectors only (G1's, ZGC's and Shenandoah's concurrent cycles run
 * beside the application). A collector updates its total before the application runs again.
 */
final class JvmPauses {

    private static final List<GarbageCollectorMXBean> PAUSING = ManagementFactory.getGarbageCollectorMXBeans()
            .stream()
            .filter(gc -> !gc.getName().contains("Concurrent") && !gc.getName().contains("Cycles"))
            .toList();

    private JvmPauses() {
    }

    /** Milliseconds spent in stop-the-world collections since the JVM started. */
    static long millis() {
        long total = 0;
        for (GarbageCollectorMXBean gc : PAUSING) {
            total += Math.max(0, gc.getCollectionTime());
        }
        return total;
    }
}
