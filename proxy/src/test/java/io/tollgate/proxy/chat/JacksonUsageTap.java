package io.tollgate.proxy.chat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteBufferFeeder;
import io.netty.buffer.ByteBuf;

import java.io.IOException;

/**
 * The usage tap as it was until 2026-12-06, on Jackson's non-blocking parser: the reference
 * {@link UsageTap} must agree with (UsageTapDifferentialTest). One change: it counted every token
 * at depth 2 under a top-level {@code choices} once an array had been seen there, so a later
 * {@code "choices":{...}} object's members counted as elements; now only the elements of a
 * choices array count, and a choices that is not an array is not an empty one.
 */
final class JacksonUsageTap {

    private static final JsonFactory JSON = new JsonFactory();

    private final JsonParser parser;
    private final ByteBufferFeeder feeder;
    private int depth;
    private String topField;
    private String usageField;
    private boolean inUsage;
    private boolean inChoices;
    private long input;
    private long output;
    private boolean seenInput;
    private boolean seenOutput;
    private int choices = -1;
    private boolean broken;

    JacksonUsageTap() {
        try {
            parser = JSON.createNonBlockingByteBufferParser();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        feeder = (ByteBufferFeeder) parser.getNonBlockingInputFeeder();
    }

    /** Reads usage from one complete JSON document (an SSE event's data). */
    static JacksonUsageTap of(ByteBuf json) {
        JacksonUsageTap tap = new JacksonUsageTap();
        tap.feed(json);
        tap.end();
        return tap;
    }

    public void feed(ByteBuf chunk) {
        if (broken || !chunk.isReadable()) {
            return;
        }
        try {
            feeder.feedInput(chunk.nioBuffer());
            read();
        } catch (IOException e) {
            broken = true;
        }
    }

    public void end() {
        if (broken) {
            return;
        }
        try {
            feeder.endOfInput();
            read();
        } catch (IOException e) {
            broken = true;
        }
    }

    private void read() throws IOException {
        JsonToken t;
        while ((t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
            if (depth == 1 && t == JsonToken.FIELD_NAME) {
                topField = parser.currentName();
                continue;
            }
            if (depth == 1 && "usage".equals(topField) && t == JsonToken.START_OBJECT) {
                inUsage = true;
            } else if (depth == 1 && "choices".equals(topField) && t == JsonToken.START_ARRAY) {
                choices = 0;
                inChoices = true;
            } else if (depth == 1 && "choices".equals(topField) && !t.isStructEnd()) {
                choices = -1;                                // a choices that is not an array
            } else if (depth == 2 && inChoices && !t.isStructEnd()) {
                choices++;
            } else if (inUsage && depth == 2) {
                if (t == JsonToken.FIELD_NAME) {
                    usageField = parser.currentName();
                } else if (t == JsonToken.VALUE_NUMBER_INT && usageField != null) {
                    // Beyond a long is absurd, not unreadable: saturate, the biller clamps it.
                    long v = parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                            ? (parser.getBigIntegerValue().signum() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE)
                            : parser.getLongValue();
                    switch (usageField) {
                        case "prompt_tokens", "input_tokens" -> {
                            input = v;
                            seenInput = true;
                        }
                        case "completion_tokens", "output_tokens" -> {
                            output = v;
                            seenOutput = true;
                        }
                        default -> {
                        }
                    }
                }
            }
            if (t.isStructStart()) {
                depth++;
            } else if (t.isStructEnd()) {
                depth--;
                if (depth == 1) {
                    inUsage = false;
                    inChoices = false;
                }
            }
        }
    }

    /**
     * The usage as the upstream reported it (possibly negative or absurd: the biller clamps it),
     * or null when the answer carried none.
     */
    public Usage usage() {
        return !seenInput && !seenOutput ? null : new Usage(input, output);
    }

    /** True when the parser failed on the bytes (the tap then read what came before). */
    boolean broken() {
        return broken;
    }

    /** True when the document had a {@code choices} array with no element, as OpenAI's usage chunk does. */
    public boolean choicesEmpty() {
        return choices == 0;
    }
}
