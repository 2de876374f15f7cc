package io.tollgate.proxy.mock;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fails a test class when a {@link ByteBuf} was garbage-collected unreleased while it ran.
 * Netty reports a leak only once the collector has queued the buffer's tracker and a later
 * allocation polls that queue, so after the tests it runs a few collections, each until a weak
 * marker of its own has been queued, and allocates after each.
 */
public final class NoLeaksExtension implements BeforeAllCallback, AfterAllCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(NoLeaksExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        List<String> leaks = new CopyOnWriteArrayList<>();
        detector().setLeakListener((type, records) -> leaks.add(records));
        context.getStore(NAMESPACE).put("leaks", leaks);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterAll(ExtensionContext context) throws Exception {
        List<String> leaks = (List<String>) context.getStore(NAMESPACE).get("leaks");
        try {
            for (int round = 0; round < 3; round++) {
                ReferenceQueue<Object> queue = new ReferenceQueue<>();
                WeakReference<Object> marker = new WeakReference<>(new Object(), queue);
                await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() -> {
                    System.gc();
                    return queue.poll() == marker;
                });
                ByteBufAllocator.DEFAULT.buffer(8).release(); // polls the detector's queue, reporting leaks
            }
        } finally {
            detector().setLeakListener(null);
        }
        assertThat(leaks).as("ByteBufs garbage-collected without release").isEmpty();
    }

    @SuppressWarnings("unchecked")
    private static ResourceLeakDetector<ByteBuf> detector() throws ReflectiveOperationException {
        Field field = Class.forName("io.netty.buffer.AbstractByteBuf").getDeclaredField("leakDetector");
        field.setAccessible(true);
        return (ResourceLeakDetector<ByteBuf>) field.get(null);
    }
}
