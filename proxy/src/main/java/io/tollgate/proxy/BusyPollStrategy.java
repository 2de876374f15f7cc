package io.tollgate.proxy;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;

/**
 * Polls for ready channels for a while before the event loop sleeps in the kernel
 * ({@code proxy.busy_poll_us}). A sleeping loop is woken through the scheduler, and on a VM
 * whose CPU went idle through the hypervisor too: tens of microseconds a wake-up, twice a
 * request (its arrival, then the upstream's answer). A polling loop sees the event on its next
 * non-blocking {@code epoll_wait}. The poll starts again after every pass that found work, so
 * under steady traffic the loop never sleeps, and once traffic stops it sleeps after one budget.
 *
 * <p>A task handed to the loop by another thread stops the poll at once (the loop runs it); a
 * timer of the loop's may fire up to one budget late, since the poll cannot see the loop's timer
 * queue.
 */
final class BusyPollStrategy implements SelectStrategy {
    private final long budgetNanos;
    private final java.util.function.IntSupplier queuedTasks;

    /**
     * @param budgetNanos how long to poll after the last pass that found work
     * @param queuedTasks the loop's tasks waiting to run (from other threads), checked while polling
     */
    BusyPollStrategy(long budgetNanos, java.util.function.IntSupplier queuedTasks) {
        if (budgetNanos <= 0) {
            throw new IllegalArgumentException("budgetNanos must be positive");
        }
        this.budgetNanos = budgetNanos;
        this.queuedTasks = queuedTasks;
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        if (hasTasks) {
            return selectNow.get();
        }
        long deadline = System.nanoTime() + budgetNanos;
        do {
            int ready = selectNow.get();
            if (ready > 0) {
                return ready;
            }
            if (queuedTasks.getAsInt() > 0) {
                return 0;   // nothing ready: the loop goes on to its tasks
            }
            Thread.onSpinWait();
        } while (System.nanoTime() - deadline < 0);
        return SelectStrategy.SELECT;
    }
}
