package io.tollgate.proxy.chat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

/**
 * Cuts an SSE answer into events as it streams, so each event can be forwarded (and flushed)
 * whole. Events that mention {@code "usage"} are read for the token counts; the usage-only
 * chunk that the gateway asked for on the client's behalf is dropped when the client did not
 * ask for it. Everything else passes byte for byte.
 */
public final class SseEventStream implements AutoCloseable {

    private static final ByteBuf USAGE = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("\"usage\"", StandardCharsets.US_ASCII));
    private static final ByteBuf USAGE_NULL = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer(",\"usage\":null", StandardCharsets.US_ASCII));
    private static final ByteBuf DONE = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("[DONE]", StandardCharsets.US_ASCII));
    private static final ByteBuf DATA = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("data:", StandardCharsets.US_ASCII));

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
     */
    public ByteBuf process(ByteBuf in, ByteBufAllocator alloc) {
        ByteBuf buf;
        if (partial != null) {
            partial.writeBytes(in);
            buf = partial;
        } else {
            buf = in;
        }
        CompositeByteBuf out = alloc.compositeBuffer(Integer.MAX_VALUE);
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        int i = start;
        while (i < end) {
            int eventEnd = eventEnd(buf, i, end);
            if (eventEnd < 0) {
                break;
            }
            ByteBuf event = buf.slice(start, eventEnd - start);
            if (keep(event)) {
                addWithoutInjectedUsage(out, event);
            }
            start = eventEnd;
            i = eventEnd;
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

    /**
     * Asking the upstream for usage made it add {@code "usage":null} to every chunk; a client that
     * did not ask gets its chunks as OpenAI would have sent them, without that member.
     */
    private void addWithoutInjectedUsage(CompositeByteBuf out, ByteBuf event) {
        int at = dropUsageChunk ? ByteBufUtil.indexOf(USAGE_NULL, event) : -1;
        if (at < 0) {
            out.addComponent(true, event.retain());
            return;
        }
        int cut = at - event.readerIndex();
        out.addComponent(true, event.retainedSlice(event.readerIndex(), cut));
        int after = cut + USAGE_NULL.readableBytes();
        out.addComponent(true, event.retainedSlice(event.readerIndex() + after, event.readableBytes() - after));
    }

    /** Index just past the blank line that ends the event starting at or before {@code from}, or -1. */
    private static int eventEnd(ByteBuf buf, int from, int end) {
        for (int i = from; i < end; i++) {
            if (buf.getByte(i) != '\n') {
                continue;
            }
            int j = i + 1;
            if (j < end && buf.getByte(j) == '\r') {
                j++;
            }
            if (j < end && buf.getByte(j) == '\n') {
                return j + 1;
            }
        }
        return -1;
    }

    private boolean keep(ByteBuf event) {
        int dataAt = ByteBufUtil.indexOf(DATA, event);
        if (dataAt < 0) {
            return true;
        }
        if (ByteBufUtil.indexOf(DONE, event) < 0) {
            dataEvents++;
        }
        int usageAt = ByteBufUtil.indexOf(USAGE, event);
        if (usageAt < 0) {
            return true;
        }
        int nullAt = ByteBufUtil.indexOf(USAGE_NULL, event);
        if (nullAt >= 0 && nullAt + 1 == usageAt && onlyOnce(event, usageAt)) {
            // Every chunk carries "usage":null once include_usage is on: no count to read there,
            // and a quote that is not escaped can only open a key, so no need to parse it.
            return true;
        }
        int payloadStart = event.readerIndex() + dataAt + DATA.readableBytes();
        UsageTap tap = UsageTap.of(event.slice(payloadStart, event.writerIndex() - payloadStart));
        Usage found = tap.usage();
        if (found == null) {
            return true;
        }
        usage = found;
        return !(dropUsageChunk && tap.choicesEmpty());
    }

    /** Whether {@code "usage"} occurs in the event only at {@code at}. */
    private static boolean onlyOnce(ByteBuf event, int at) {
        int next = at + USAGE.readableBytes();
        return next >= event.writerIndex()
                || ByteBufUtil.indexOf(USAGE, event.slice(next, event.writerIndex() - next)) < 0;
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
