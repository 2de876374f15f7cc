package io.tollgate.proxy.chat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

/**
 * Cuts an SSE answer into events as it streams, so each event can be forwarded (and flushed)
 * whole. Events that mention {@code "usage"} are read for the token counts; the usage-only
 * chunk that the gateway asked for on the client's behalf is dropped when the client did not
 * ask for it. Everything else passes byte for byte.
 */
public final class SseEventStream implements AutoCloseable {

    private static final byte[] USAGE = ascii("\"usage\"");
    private static final byte[] NULL_VALUE = ascii(":null");
    private static final byte[] USAGE_NULL = ascii(",\"usage\":null");
    private static final byte[] DONE = ascii("[DONE]");
    private static final byte[] DATA = ascii("data:");
    /** {@link #verdict}s other than an index to cut at. */
    private static final int WHOLE = -1;
    private static final int DROP = -2;

    private final boolean dropUsageChunk;
    private ByteBuf partial;
    private Usage usage;
    private int dataEvents;

    public SseEventStream(boolean dropUsageChunk) {
        this.dropUsageChunk = dropUsageChunk;
    }

    /**
     * Takes the next piece of the answer (the caller keeps its reference) and returns the complete
     * events to forward, possibly empty. A trailing partial event waits for the next piece.
     * Asking the upstream for usage made it add {@code "usage":null} to every chunk; a client that
     * did not ask gets its chunks as OpenAI would have sent them, without that member.
     */
    public ByteBuf process(ByteBuf in, ByteBufAllocator alloc) {
        ByteBuf buf;
        if (partial != null) {
            partial.writeBytes(in);
            buf = partial;
        } else {
            buf = in;
        }
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        // Events forwarded as they are pile up in [run, start) and leave as one slice of the
        // input; only when one is dropped or cut is the answer copied into a buffer of its own.
        ByteBuf out = null;
        int run = start;
        int eventEnd;
        while (start < end && (eventEnd = eventEnd(buf, start, end)) >= 0) {
            int verdict = verdict(buf, start, eventEnd);
            if (verdict != WHOLE) {
                if (out == null) {
                    out = alloc.buffer(end - run);
                }
                boolean drop = verdict == DROP;
                out.writeBytes(buf, run, (drop ? start : verdict) - run);
                run = drop ? eventEnd : verdict + USAGE_NULL.length;
            }
            start = eventEnd;
        }
        if (out == null) {
            out = run < start ? buf.retainedSlice(run, start - run) : Unpooled.EMPTY_BUFFER;
        } else {
            out.writeBytes(buf, run, start - run);
        }
        if (start < end) {
            ByteBuf rest = alloc.buffer(Math.max(256, (end - start) * 2));
            rest.writeBytes(buf, start, end - start);
            releasePartial();
            partial = rest;
        } else {
            releasePartial();
        }
        return out;
    }

    /** What is left when the answer ends: an unterminated last event, forwarded as it is. */
    public ByteBuf finish() {
        ByteBuf rest = partial != null ? partial : Unpooled.EMPTY_BUFFER;
        partial = null;
        return rest;
    }

    /** Index just past the blank line that ends the event starting at or before {@code from}, or -1. */
    private static int eventEnd(ByteBuf buf, int from, int end) {
        int i = from;
        while ((i = buf.indexOf(i, end, (byte) '\n')) >= 0) {
            int j = i + 1;
            if (j < end && buf.getByte(j) == '\r') {
                j++;
            }
            if (j < end && buf.getByte(j) == '\n') {
                return j + 1;
            }
            i++;
        }
        return -1;
    }

    /**
     * What becomes of the event in {@code [from, to)}: {@link #WHOLE} (forwarded as it is),
     * {@link #DROP}, or the index of the {@code ,"usage":null} member to cut out of it (only for a
     * client that did not ask for usage). Counts data events and reads usage on the way. The
     * event is read from a copy in an array: searched in place, through the buffer's checked
     * accessors, the four searches of every chunk were most of the streaming path's own time.
     */
    private int verdict(ByteBuf event, int from, int to) {
        int length = to - from;
        byte[] b = UsageTap.scratch();                   // the tap below reads this array too, not a buffer
        if (length > b.length) {
            b = new byte[length];
        }
        event.getBytes(from, b, 0, length);
        int dataAt = find(b, 0, length, DATA);
        if (dataAt < 0) {
            return WHOLE;
        }
        int payload = dataAt + DATA.length;
        if (!at(b, payload < length && b[payload] == ' ' ? payload + 1 : payload, length, DONE, 0)) {
            dataEvents++;
        }
        int usageAt = find(b, payload, length, USAGE);
        if (usageAt < 0) {
            return WHOLE;
        }
        int afterKey = usageAt + USAGE.length;
        if (b[usageAt - 1] == ',' && at(b, afterKey, length, NULL_VALUE, 0) && find(b, afterKey, length, USAGE) < 0) {
            // Every chunk carries "usage":null once include_usage is on: no count to read there,
            // and a quote that is not escaped can only open a key, so no need to parse it.
            return dropUsageChunk ? from + usageAt - 1 : WHOLE;
        }
        UsageTap tap = UsageTap.of(b, payload, length);
        Usage found = tap.usage();
        if (found != null) {
            usage = found;
            if (dropUsageChunk && tap.choicesEmpty()) {
                return DROP;
            }
        }
        int cut = dropUsageChunk ? find(b, payload, length, USAGE_NULL) : -1;
        return cut < 0 ? WHOLE : from + cut;
    }

    /** The first index in {@code [from, to)} of {@code b} where {@code needle} starts, or -1. */
    static int find(byte[] b, int from, int to, byte[] needle) {
        byte first = needle[0];
        for (int i = from, last = to - needle.length; i <= last; i++) {
            if (b[i] == first && at(b, i + 1, to, needle, 1)) {
                return i;
            }
        }
        return -1;
    }

    /** Whether {@code needle}, from its byte {@code skip} on, is at {@code index} of {@code b} (before {@code to}). */
    private static boolean at(byte[] b, int index, int to, byte[] needle, int skip) {
        if (index + needle.length - skip > to) {
            return false;
        }
        for (int k = skip; k < needle.length; k++) {
            if (b[index + k - skip] != needle[k]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** The last usage the stream reported, or null. */
    public Usage usage() {
        return usage;
    }

    /** How many data events went by, [DONE] not counted: what metering falls back on without usage. */
    public int dataEvents() {
        return dataEvents;
    }

    private void releasePartial() {
        if (partial != null) {
            partial.release();
            partial = null;
        }
    }

    @Override
    public void close() {
        releasePartial();
    }
}
