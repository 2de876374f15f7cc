package io.tollgate.proxy.billing;

import io.tollgate.schema.BillingStore.Outcome;

import java.io.IOException;
import java.util.List;

/**
 * Where finished requests wait for the database, oldest first: the outcome writer appends what
 * the proxy recorded, applies the oldest it can {@link #peek}, and {@link #acknowledge}s them once
 * the database has them. Thread-safe: one thread appends while another applies.
 */
interface OutcomeLog extends AutoCloseable {

    /** Adds outcomes at the end; when this returns they survive what {@link #durable()} says. */
    void append(List<Outcome> outcomes) throws IOException;

    /** Makes what was appended survive a crash of the machine as well (a no-op in memory). */
    void sync() throws IOException;

    /** Up to {@code max} of the oldest outcomes not yet acknowledged, without removing them. */
    List<Outcome> peek(int max) throws IOException;

    /** The outcomes the last {@link #peek} returned are in the database. */
    void acknowledge() throws IOException;

    /** Outcomes appended (or found at start) and not yet acknowledged. */
    long unapplied();

    /** True when appended outcomes survive a crash of the process. */
    boolean durable();

    @Override
    void close();

    /** No journal directory configured: outcomes wait in memory, as they did before the journal. */
    final class InMemory implements OutcomeLog {

        private final java.util.ArrayDeque<Outcome> waiting = new java.util.ArrayDeque<>();
        private int peeked;

        @Override
        public synchronized void append(List<Outcome> outcomes) {
            waiting.addAll(outcomes);
        }

        @Override
        public void sync() {
            // nothing survives anything here
        }

        @Override
        public synchronized List<Outcome> peek(int max) {
            List<Outcome> out = new java.util.ArrayList<>(Math.min(max, waiting.size()));
            for (Outcome o : waiting) {
                if (out.size() == max) {
                    break;
                }
                out.add(o);
            }
            peeked = out.size();
            return out;
        }

        @Override
        public synchronized void acknowledge() {
            for (int i = 0; i < peeked; i++) {
                waiting.removeFirst();
            }
            peeked = 0;
        }

        @Override
        public synchronized long unapplied() {
            return waiting.size();
        }

        @Override
        public boolean durable() {
            return false;
        }

        @Override
        public synchronized void close() {
            // nothing held
        }
    }
}
