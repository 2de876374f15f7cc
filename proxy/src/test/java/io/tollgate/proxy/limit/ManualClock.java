package io.tollgate.proxy.limit;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** A clock in milliseconds that moves only when a test says so. */
final class ManualClock implements LongSupplier {

    private final AtomicLong millis;

    ManualClock(long startMillis) {
        this.millis = new AtomicLong(startMillis);
    }

    @Override
    public long getAsLong() {
        return millis.get();
    }

    long micros() {
        return millis.get() * 1000;
    }

    void set(long m) {
        millis.set(m);
    }

    void advance(Duration d) {
        millis.addAndGet(d.toMillis());
    }
}
