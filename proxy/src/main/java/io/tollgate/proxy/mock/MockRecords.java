package io.tollgate.proxy.mock;

import io.tollgate.proxy.mock.MockProvider.RecordedRequest;
import io.tollgate.proxy.mock.MockProvider.Usage;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the mock saw and answered, written from every event loop, read by tests.
 * Each list keeps the newest {@link MockProvider#RECORD_LIMIT} entries so a long benchmark
 * run against the mock does not grow without bound.
 */
final class MockRecords {

    private final ArrayDeque<RecordedRequest> requests = new ArrayDeque<>();
    private final ArrayDeque<Usage> usages = new ArrayDeque<>();
    private final AtomicInteger heads = new AtomicInteger();
    private final AtomicInteger incomplete = new AtomicInteger();
    private final AtomicInteger abandoned = new AtomicInteger();

    void abandonedAnswer() {
        abandoned.incrementAndGet();
    }

    int abandoned() {
        return abandoned.get();
    }

    void headReceived() {
        heads.incrementAndGet();
    }

    void incompleteRequest() {
        incomplete.incrementAndGet();
    }

    void request(RecordedRequest request) {
        synchronized (requests) {
            if (requests.size() == MockProvider.RECORD_LIMIT) {
                requests.removeFirst();
            }
            requests.addLast(request);
        }
    }

    void usage(Usage usage) {
        synchronized (usages) {
            if (usages.size() == MockProvider.RECORD_LIMIT) {
                usages.removeFirst();
            }
            usages.addLast(usage);
        }
    }

    List<RecordedRequest> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    List<Usage> usages() {
        synchronized (usages) {
            return List.copyOf(usages);
        }
    }

    int heads() {
        return heads.get();
    }

    int incomplete() {
        return incomplete.get();
    }

    void reset() {
        synchronized (requests) {
            requests.clear();
        }
        synchronized (usages) {
            usages.clear();
        }
        heads.set(0);
        incomplete.set(0);
        abandoned.set(0);
    }
}
