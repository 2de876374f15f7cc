package io.tollgate.proxy.media;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;

import java.nio.charset.StandardCharsets;

/**
 * Counts the images of an image generation answer as it streams by: the complete elements of the
 * root object's {@code data} array. A byte-level scanner rather than a JSON parser, because a
 * {@code b64_json} image is one string of megabytes that a parser would copy whole; this one only
 * tracks nesting, strings and escapes, in constant memory. It does not validate: the bytes are the
 * client's business, this only meters them, and an answer cut mid-way counts the images that were
 * complete.
 */
final class ImageCounter implements ByteProcessor {

    private static final byte[] DATA = "data".getBytes(StandardCharsets.US_ASCII);

    private int depth;
    private boolean inString;
    private boolean escaped;
    /** At depth 1, the next string is a member name. */
    private boolean nameExpected;
    private boolean readingName;
    private final byte[] name = new byte[DATA.length];
    private int nameLength;
    private boolean nameTooLong;
    private boolean lastNameIsData;
    /** The depth of the data array's elements while inside it, else -1. */
    private int dataDepth = -1;
    /** A scalar element of data started and ends at the next ',' or ']'. */
    private boolean scalarOpen;
    private long completed;

    void feed(ByteBuf chunk) {
        chunk.forEachByte(this);
    }

    /** Complete elements of {@code data} seen so far. */
    long completed() {
        return completed;
    }

    @Override
    public boolean process(byte b) {
        if (inString) {
            inString(b);
            return true;
        }
        switch (b) {
            case ' ', '\t', '\r', '\n', ':' -> {
                // nothing to count
            }
            case '"' -> {
                inString = true;
                if (depth == 1 && nameExpected) {
                    nameExpected = false;
                    readingName = true;
                    nameLength = 0;
                    nameTooLong = false;
                } else if (depth == dataDepth) {
                    scalarOpen = true;
                }
            }
            case '{', '[' -> {
                boolean opensData = depth == 1 && b == '[' && lastNameIsData && !nameExpected;
                depth++;
                if (depth == 1) {
                    nameExpected = b == '{';
                }
                if (opensData) {
                    dataDepth = depth;
                }
            }
            case '}', ']' -> {
                if (depth == dataDepth && b == ']') {
                    closeScalar();
                    dataDepth = -1;
                }
                depth--;
                if (depth == dataDepth) {
                    completed++;                     // an object (or array) element just closed
                }
            }
            case ',' -> {
                if (depth == dataDepth) {
                    closeScalar();
                }
                if (depth == 1) {
                    nameExpected = true;
                    lastNameIsData = false;
                }
            }
            default -> {
                if (depth == dataDepth) {
                    scalarOpen = true;               // a number or literal element
                }
            }
        }
        return true;
    }

    private void inString(byte b) {
        if (escaped) {
            escaped = false;
            nameTooLong |= readingName;              // an escaped name is not a plain "data"
            return;
        }
        if (b == '\\') {
            escaped = true;
        } else if (b == '"') {
            inString = false;
            if (readingName) {
                readingName = false;
                lastNameIsData = !nameTooLong && nameLength == DATA.length && java.util.Arrays.equals(name, DATA);
            }
        } else if (readingName) {
            if (nameLength < name.length) {
                name[nameLength++] = b;
            } else {
                nameTooLong = true;
            }
        }
    }

    private void closeScalar() {
        if (scalarOpen) {
            scalarOpen = false;
            completed++;
        }
    }
}
