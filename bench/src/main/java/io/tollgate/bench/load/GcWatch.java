package io.tollgate.bench.load;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/** Counts this JVM's collections between two points: the load generator reports its own pauses. */
final class GcWatch {

    private final long count;
    private final long millis;

    GcWatch() {
        long c = 0;
        long m = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            c += Math.max(0, gc.getCollectionCount());
            m += Math.max(0, gc.getCollectionTime());
        }
        count = c;
        millis = m;
    }

    long countSince(GcWatch start) {
        return count - start.count;
    }

    long millisSince(GcWatch start) {
        return millis - start.millis;
    }
}
