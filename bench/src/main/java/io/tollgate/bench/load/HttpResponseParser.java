package io.tollgate.bench.load;

import io.netty.buffer.ByteBuf;

/**
 * An HTTP/1.1 response parser for the load generator: no objects per response, no copies of the
 * body, so the generator's own garbage does not show up in the latencies it measures. It knows
 * exactly what a benchmark needs: the status, Content-Length or chunked framing, and
 * {@code Connection: close}; the body is handed over in place, already de-chunked.
 */
final class HttpResponseParser {

    interface Listener {
        /** The final response head (1xx heads are skipped). */
        void onHead(int status);

        /** Decoded body bytes, valid only during the call. */
        void onBody(ByteBuf buf, int index, int length);

        /** The response ended; {@code keepAlive} false when the server said it will close. */
        void onComplete(int status, boolean keepAlive);
    }

    /** A response the parser could not make sense of: the connection is unusable. */
    static final class ParseException extends RuntimeException {
        ParseException(String message) {
            super(message);
        }
    }

    private enum State { STATUS_LINE, HEADERS, BODY_LENGTH, BODY_UNTIL_CLOSE, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS }

    private static final int MAX_LINE = 16 * 1024;

    private final Listener listener;
    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;
    private State state = State.STATUS_LINE;
    private boolean inMessage;
    private int status;
    private long contentLength;
    private boolean chunked;
    private boolean close;
    private long remaining;

    HttpResponseParser(Listener listener) {
        this.listener = listener;
    }

    /** True between the first byte of a response and its end. */
    boolean inMessage() {
        return inMessage;
    }

    /** Consumes every readable byte of {@code buf} (its reader index is left untouched). */
    void feed(ByteBuf buf) {
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        while (i < end) {
            inMessage = true;
            switch (state) {
                case STATUS_LINE, HEADERS, CHUNK_SIZE, CHUNK_DATA_END, TRAILERS -> {
                    int nl = buf.indexOf(i, end, (byte) '\n');
                    int stop = nl < 0 ? end : nl;
                    int n = stop - i;
                    if (lineLength + n > MAX_LINE) {
                        throw new ParseException("line longer than " + MAX_LINE + " bytes in " + state);
                    }
                    buf.getBytes(i, line, lineLength, n);
                    lineLength += n;
                    i = stop;
                    if (nl >= 0) {
                        i++;
                        int len = lineLength;
                        if (len > 0 && line[len - 1] == '\r') {
                            len--;
                        }
                        lineLength = 0;
                        onLine(len);
                    }
                }
                case BODY_LENGTH, CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, end - i);
                    listener.onBody(buf, i, n);
                    i += n;
                    remaining -= n;
                    if (remaining == 0) {
                        if (state == State.BODY_LENGTH) {
                            complete();
                        } else {
                            state = State.CHUNK_DATA_END;
                        }
                    }
                }
                case BODY_UNTIL_CLOSE -> {
                    listener.onBody(buf, i, end - i);
                    i = end;
                }
            }
        }
    }

    /** Back to the start of a response: the connection was replaced. */
    void reset() {
        state = State.STATUS_LINE;
        inMessage = false;
        lineLength = 0;
    }

    /** The connection closed: ends a body that runs until close; true when a response was cut short. */
    boolean closed() {
        if (state == State.BODY_UNTIL_CLOSE) {
            close = true;
            complete();
            return false;
        }
        return inMessage;
    }

    private void onLine(int len) {
        switch (state) {
            case STATUS_LINE -> {
                if (len == 0) {
                    return;                                   // tolerate a stray CRLF between responses
                }
                if (len < 12 || line[0] != 'H' || line[1] != 'T' || line[2] != 'T' || line[3] != 'P') {
                    throw new ParseException("not an HTTP status line");
                }
                status = digit(line[9]) * 100 + digit(line[10]) * 10 + digit(line[11]);
                contentLength = -1;
                chunked = false;
                close = line[7] == '0';                       // HTTP/1.0 closes unless told otherwise
                state = State.HEADERS;
            }
            case HEADERS -> {
                if (len == 0) {
                    endOfHead();
                } else {
                    header(len);
                }
            }
            case CHUNK_SIZE -> {
                long size = 0;
                int digits = 0;
                for (int j = 0; j < len && line[j] != ';' && line[j] != ' '; j++) {
                    size = size * 16 + hex(line[j]);
                    digits++;
                }
                if (digits == 0) {
                    throw new ParseException("empty chunk size");
                }
                if (size == 0) {
                    state = State.TRAILERS;
                } else {
                    remaining = size;
                    state = State.CHUNK_DATA;
                }
            }
            case CHUNK_DATA_END -> {
                if (len != 0) {
                    throw new ParseException("chunk not followed by CRLF");
                }
                state = State.CHUNK_SIZE;
            }
            case TRAILERS -> {
                if (len == 0) {
                    complete();
                }
            }
            default -> throw new IllegalStateException(state.name());
        }
    }

    private void header(int len) {
        int colon = -1;
        for (int j = 0; j < len; j++) {
            if (line[j] == ':') {
                colon = j;
                break;
            }
        }
        if (colon < 0) {
            throw new ParseException("header line without a colon");
        }
        int v = colon + 1;
        while (v < len && (line[v] == ' ' || line[v] == '\t')) {
            v++;
        }
        if (nameIs("content-length", colon)) {
            long n = 0;
            for (int j = v; j < len && line[j] != ' '; j++) {
                n = n * 10 + digit(line[j]);
            }
            contentLength = n;
        } else if (nameIs("transfer-encoding", colon)) {
            chunked = contains(v, len, "chunked");
        } else if (nameIs("connection", colon)) {
            if (contains(v, len, "close")) {
                close = true;
            } else if (contains(v, len, "keep-alive")) {
                close = false;
            }
        }
    }

    private void endOfHead() {
        if (status >= 100 && status < 200) {
            state = State.STATUS_LINE;                        // 100 Continue: the real head follows
            return;
        }
        listener.onHead(status);
        if (status == 204 || status == 304) {
            complete();
        } else if (chunked) {
            state = State.CHUNK_SIZE;
        } else if (contentLength >= 0) {
            remaining = contentLength;
            if (remaining == 0) {
                complete();
            } else {
                state = State.BODY_LENGTH;
            }
        } else {
            state = State.BODY_UNTIL_CLOSE;
        }
    }

    private void complete() {
        state = State.STATUS_LINE;
        inMessage = false;
        listener.onComplete(status, !close);
    }

    private boolean nameIs(String name, int length) {
        if (length != name.length()) {
            return false;
        }
        for (int j = 0; j < length; j++) {
            if ((line[j] | 0x20) != name.charAt(j)) {
                return false;
            }
        }
        return true;
    }

    private boolean contains(int from, int to, String token) {
        outer:
        for (int j = from; j + token.length() <= to; j++) {
            for (int k = 0; k < token.length(); k++) {
                if ((line[j + k] | 0x20) != token.charAt(k)) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static int digit(byte b) {
        if (b < '0' || b > '9') {
            throw new ParseException("not a digit: " + (char) b);
        }
        return b - '0';
    }

    private static int hex(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        int lower = b | 0x20;
        if (lower >= 'a' && lower <= 'f') {
            return lower - 'a' + 10;
        }
        throw new ParseException("not a hex digit: " + (char) b);
    }
}
