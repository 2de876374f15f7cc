package io.tollgate.proxy.chat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteBufferFeeder;
import io.netty.buffer.ByteBuf;

import java.io.IOException;

/**
 * Watches a JSON answer go by, without holding it, for the top-level {@code usage} object
 * ({@code prompt_tokens}/{@code completion_tokens}, or {@code input_tokens}/{@code output_tokens})
 * and whether {@code choices} was empty. Malformed JSON simply yields no usage: the bytes are
 * the client's business, the tap only meters them.
 */
public final class UsageTap {

    private static final JsonFactory JSON = new JsonFactory();

    private final JsonParser parser;
    private final ByteBufferFeeder feeder;
    private int depth;
    private String topField;
    private String usageField;
    private boolean inUsage;
    private long input;
    private long output;
    private boolean seenInput;
    private boolean seenOutput;
    private int choices = -1;
    private boolean broken;

    public UsageTap() {
        try {
            parser = JSON.createNonBlockingByteBufferParser();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        feeder = (ByteBufferFeeder) parser.getNonBlockingInputFeeder();
    }

    /** Reads usage from one complete JSON document (an SSE event's data). */
    public static UsageTap of(ByteBuf json) {
        UsageTap tap = new UsageTap();
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
            } else if (depth == 2 && choices >= 0 && "choices".equals(topField) && t != JsonToken.END_ARRAY) {
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

    /** True when the document had a {@code choices} array with no element, as OpenAI's usage chunk does. */
    public boolean choicesEmpty() {
        return choices == 0;
    }
}
