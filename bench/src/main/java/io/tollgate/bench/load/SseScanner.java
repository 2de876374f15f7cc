package io.tollgate.bench.load;

import io.netty.buffer.ByteBuf;

/**
 * Spots server-sent events in a body as it arrives: each line starting with {@code data:} is
 * one event, counted the moment its first bytes are seen, wherever the reads split it.
 */
final class SseScanner {

    private static final byte[] DATA = {'d', 'a', 't', 'a', ':'};

    /** Characters of "data:" matched at the start of the current line; -1 when the line is something else. */
    private int matched;

    /** Forgets any partial line: a new body starts. */
    void reset() {
        matched = 0;
    }

    /** How many {@code data:} lines start (complete their prefix) within these bytes. */
    int scan(ByteBuf buf, int index, int length) {
        int events = 0;
        int end = index + length;
        for (int i = index; i < end; i++) {
            byte b = buf.getByte(i);
            if (b == '\n') {
                matched = 0;
            } else if (matched >= 0 && matched < DATA.length) {
                if (b == DATA[matched]) {
                    if (++matched == DATA.length) {
                        events++;
                    }
                } else if (!(matched == 0 && b == '\r')) {
                    matched = -1;
                }
            }
        }
        return events;
    }
}
