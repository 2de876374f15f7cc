package io.tollgate.proxy.chat;

import com.fasterxml.jackson.core.StreamReadConstraints;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * Watches a JSON answer go by, without holding it, for the top-level {@code usage} object
 * ({@code prompt_tokens}/{@code completion_tokens}, or {@code input_tokens}/{@code output_tokens})
 * and whether {@code choices} was empty. Malformed JSON stops the reading where it breaks (what
 * was read before stands, as with a streaming parser) and an answer cut short yields what came
 * before the cut: the bytes are the client's business, the tap only meters them.
 *
 * <p>A tokenizer of its own rather than Jackson's non-blocking parser, which copied every string
 * of the answer into its text buffer (a long completion whole, in memory) and cost 3% of the
 * event loop for a 450-byte answer. This one keeps no text: strings are skipped, and only the
 * names it looks for are decoded, escapes included. It accepts what Jackson's parser accepts by
 * default (RFC 8259 without comments, trailing commas, leading zeros, unescaped control
 * characters or unknown escapes; {@link StreamReadConstraints}' nesting limit) and, like it,
 * several root values in a row. Where they part: it does not check that the bytes of a string
 * are valid UTF-8, which no count depends on, and a number must be followed by whitespace, a
 * comma, a bracket or the end (Jackson reads the 12 of {@code 12x}, then fails on the x).
 */
public final class UsageTap {

    private static final int MAX_DEPTH = StreamReadConstraints.defaults().getMaxNestingDepth();
    /** Long enough for every name looked for; a longer one is none of them. */
    private static final int MAX_NAME = 24;
    /** Where a direct buffer's bytes are copied to be read (one per event-loop thread; SseEventStream's too). */
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[8192];
        }
    };

    // What the next byte may be.
    private static final int VALUE = 0;            // a value: at the root, after ':' or after ',' in an array
    private static final int VALUE_OR_CLOSE = 1;   // after '['
    private static final int NAME_OR_CLOSE = 2;    // after '{'
    private static final int NAME = 3;             // after ',' in an object
    private static final int COLON = 4;
    private static final int AFTER_VALUE = 5;      // ',' or the container's end
    private static final int STRING = 6;
    private static final int ESCAPE = 7;           // after a backslash in a string
    private static final int UNICODE = 8;          // in the four hex digits of \\uXXXX
    private static final int NUMBER = 9;
    private static final int LITERAL = 10;         // in true, false or null
    private static final int LITERAL_END = 11;     // after a literal's last letter
    private static final int BROKEN = 12;

    // Where a number is (RFC 8259's grammar).
    private static final int N_MINUS = 0;          // after '-': a digit must come
    private static final int N_ZERO = 1;           // a leading 0: no digit may follow
    private static final int N_INT = 2;
    private static final int N_DOT = 3;            // a digit must come
    private static final int N_FRACTION = 4;
    private static final int N_E = 5;              // a sign or digit must come
    private static final int N_E_SIGN = 6;         // a digit must come
    private static final int N_EXPONENT = 7;

    // The names that matter.
    private static final int OTHER = 0;
    private static final int USAGE = 1;
    private static final int CHOICES = 2;
    private static final int INPUT = 3;
    private static final int OUTPUT = 4;

    private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
    private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
    private static final byte[] NULL = {'n', 'u', 'l', 'l'};

    private int state = VALUE;
    private int depth;
    /** Whether the container at each depth (1-based) is an object. */
    private boolean[] object = new boolean[16];

    private boolean stringIsName;
    /** The name being read, when it is one that may matter (capture), else nothing is kept. */
    private boolean capture;
    private final char[] name = new char[MAX_NAME];
    private int nameLength;
    private boolean nameTooLong;
    private int unicodeDigits;
    private int unicodeValue;

    private int numberState;
    private boolean numberCounts;                  // an integer here is a usage count
    private boolean negative;
    private long magnitude;                        // minus the digits so far (Long.MIN_VALUE fits)
    private boolean overflow;

    private byte[] literal;
    private int literalAt;

    private boolean element;                       // the value being read is an element of choices
    private int topField = OTHER;
    private int usageField = OTHER;
    private boolean inUsage;
    private boolean inChoices;

    private long input;
    private long output;
    private boolean seenInput;
    private boolean seenOutput;
    private int choices = -1;

    /** Reads usage from one complete JSON document (an SSE event's data). */
    public static UsageTap of(ByteBuf json) {
        UsageTap tap = new UsageTap();
        tap.feed(json);
        tap.end();
        return tap;
    }

    /** The tap of the whole JSON document in {@code [from, to)} of {@code b}. */
    static UsageTap of(byte[] b, int from, int to) {
        UsageTap tap = new UsageTap();
        if (from < to) {
            tap.scan(b, from, to);
        }
        tap.end();
        return tap;
    }

    /** This thread's scratch array (8 KB), free to use between calls that do not feed a direct buffer. */
    static byte[] scratch() {
        return SCRATCH.get();
    }

    public void feed(ByteBuf chunk) {
        int n = chunk.readableBytes();
        if (state == BROKEN || n == 0) {
            return;
        }
        if (chunk.hasArray()) {
            int at = chunk.arrayOffset() + chunk.readerIndex();
            scan(chunk.array(), at, at + n);
            return;
        }
        byte[] scratch = SCRATCH.get();
        for (int at = chunk.readerIndex(), end = at + n; at < end && state != BROKEN; ) {
            int len = Math.min(end - at, scratch.length);
            chunk.getBytes(at, scratch, 0, len);
            scan(scratch, 0, len);
            at += len;
        }
    }

    /** The answer is over: a number or literal running to its very end counts, as with Jackson's parser. */
    public void end() {
        if (state == NUMBER) {
            endNumber();
        } else if (state == LITERAL_END) {
            elementWhole();
        }
    }

    private void scan(byte[] b, int i, int to) {
        while (i < to) {
            int c = b[i] & 0xFF;
            switch (state) {
                case STRING -> {
                    // The bulk of an answer: its text, skipped a byte at a time (a name that may
                    // matter kept on the way).
                    while (c != '"' && c != '\\' && c >= 0x20) {
                        if (capture) {
                            keep(c < 0x80 ? (char) c : '\uFFFD');    // none of the names has non-ASCII
                        }
                        if (++i == to) {
                            return;
                        }
                        c = b[i] & 0xFF;
                    }
                    if (c == '"') {
                        endString();
                    } else if (c == '\\') {
                        state = ESCAPE;
                    } else {
                        state = BROKEN;                    // an unescaped control character
                        return;
                    }
                }
                case ESCAPE -> {
                    char e = switch (c) {
                        case '"', '\\', '/' -> (char) c;
                        case 'b' -> '\b';
                        case 'f' -> '\f';
                        case 'n' -> '\n';
                        case 'r' -> '\r';
                        case 't' -> '\t';
                        case 'u' -> 'u';
                        default -> 0;
                    };
                    if (e == 0) {
                        state = BROKEN;
                        return;
                    }
                    if (c == 'u') {
                        state = UNICODE;
                        unicodeDigits = 0;
                        unicodeValue = 0;
                    } else {
                        keep(e);
                        state = STRING;
                    }
                }
                case UNICODE -> {
                    int d = Character.digit(c, 16);
                    if (d < 0) {
                        state = BROKEN;
                        return;
                    }
                    unicodeValue = unicodeValue << 4 | d;
                    if (++unicodeDigits == 4) {
                        keep((char) unicodeValue);
                        state = STRING;
                    }
                }
                case NUMBER -> {
                    if (numberState == N_INT) {
                        while (c >= '0' && c <= '9') {     // the digits of a count, in one go
                            accumulate(c);
                            if (++i == to) {
                                return;
                            }
                            c = b[i] & 0xFF;
                        }
                    }
                    if (!number(c)) {
                        if (state == BROKEN) {
                            return;
                        }
                        continue;                          // the byte that ended it is read again
                    }
                }
                case LITERAL -> {
                    if (c != literal[literalAt]) {
                        state = BROKEN;
                        return;
                    }
                    if (++literalAt == literal.length) {
                        state = LITERAL_END;
                    }
                }
                case LITERAL_END -> {
                    // As Jackson's parser: "truex" is one unknown word, not true and then an x.
                    if (c >= '0' && c != ']' && c != '}') {
                        state = BROKEN;
                        return;
                    }
                    state = AFTER_VALUE;
                    elementWhole();
                    continue;                              // the byte is read again
                }
                default -> {
                    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                        break;
                    }
                    if (!structure(c)) {
                        state = BROKEN;
                        return;
                    }
                }
            }
            i++;
        }
    }

    /** A byte outside strings, numbers and literals; false when it has no place there. */
    private boolean structure(int c) {
        return switch (state) {
            case VALUE_OR_CLOSE -> c == ']' ? close(false) : value(c);
            case VALUE -> value(c);
            case NAME_OR_CLOSE -> c == '}' ? close(true) : name(c);
            case NAME -> name(c);
            case COLON -> colon(c);
            case AFTER_VALUE -> afterValue(c);
            default -> false;
        };
    }

    private boolean colon(int c) {
        if (c != ':') {
            return false;
        }
        state = VALUE;
        return true;
    }

    private boolean afterValue(int c) {
        if (depth == 0) {
            return value(c);                               // another root value
        }
        if (c == ',') {
            state = object[depth] ? NAME : VALUE;
            return true;
        }
        return (c == '}' || c == ']') && close(c == '}');
    }

    private boolean name(int c) {
        if (c != '"') {
            return false;
        }
        stringIsName = true;
        capture = depth == 1 || depth == 2 && inUsage;
        nameLength = 0;
        nameTooLong = false;
        state = STRING;
        return true;
    }

    /** The first byte of a value at the current depth. */
    private boolean value(int c) {
        if (!startsValue(c)) {
            return false;
        }
        boolean field = depth == 1 && object[1];          // the value of a top-level field
        // An element of choices counts once it is whole, as a parser's token would: a container
        // from its start, a scalar from its end.
        element = depth == 2 && inChoices;
        if (field && topField == CHOICES) {
            choices = -1;                                  // until it turns out to be an array
        }
        switch (c) {
            case '{', '[' -> {
                if (depth == MAX_DEPTH) {
                    return false;
                }
                boolean isObject = c == '{';
                elementWhole();
                depth++;
                if (depth == object.length) {
                    object = java.util.Arrays.copyOf(object, Math.min(object.length * 2, MAX_DEPTH + 1));
                }
                object[depth] = isObject;
                if (field && isObject && topField == USAGE) {
                    inUsage = true;
                } else if (field && !isObject && topField == CHOICES) {
                    inChoices = true;
                    choices = 0;
                }
                state = isObject ? NAME_OR_CLOSE : VALUE_OR_CLOSE;
            }
            case '"' -> {
                stringIsName = false;
                capture = false;
                state = STRING;
            }
            case 't', 'f', 'n' -> {
                literal = c == 't' ? TRUE : c == 'f' ? FALSE : NULL;
                literalAt = 1;
                state = LITERAL;
            }
            case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> {
                numberCounts = depth == 2 && inUsage && (usageField == INPUT || usageField == OUTPUT);
                negative = c == '-';
                magnitude = negative ? 0 : -(c - '0');
                overflow = false;
                numberState = negative ? N_MINUS : c == '0' ? N_ZERO : N_INT;
                state = NUMBER;
            }
            default -> throw new AssertionError(c);
        }
        return true;
    }

    private static boolean startsValue(int c) {
        return switch (c) {
            case '{', '[', '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> true;
            default -> false;
        };
    }

    private boolean close(boolean isObject) {
        if (depth == 0 || object[depth] != isObject) {
            return false;
        }
        depth--;
        if (depth == 1) {
            inUsage = false;
            inChoices = false;
        }
        state = AFTER_VALUE;
        return true;
    }

    /** The value being read is whole as an element (a scalar ended, a container began): one more, if of choices. */
    private void elementWhole() {
        if (element) {
            choices++;
            element = false;
        }
    }

    private void keep(char ch) {
        if (!capture) {
            return;
        }
        if (nameLength == MAX_NAME) {
            nameTooLong = true;
        } else {
            name[nameLength++] = ch;
        }
    }

    private void endString() {
        state = stringIsName ? COLON : AFTER_VALUE;
        if (!stringIsName) {
            elementWhole();
        }
        if (!capture) {
            return;
        }
        int which = nameTooLong ? OTHER : which();
        if (depth == 1) {
            topField = which;
        } else {
            usageField = which;
        }
        capture = false;
    }

    private int which() {
        return switch (nameLength) {
            case 5 -> is("usage") ? USAGE : OTHER;
            case 7 -> is("choices") ? CHOICES : OTHER;
            case 12 -> is("input_tokens") ? INPUT : OTHER;
            case 13 -> is("prompt_tokens") ? INPUT : is("output_tokens") ? OUTPUT : OTHER;
            case 17 -> is("completion_tokens") ? OUTPUT : OTHER;
            default -> OTHER;
        };
    }

    private boolean is(String s) {
        for (int k = 0; k < nameLength; k++) {
            if (name[k] != s.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** One byte of a number; false when it is not part of it (the number then ended, or broke). */
    private boolean number(int c) {
        boolean digit = c >= '0' && c <= '9';
        switch (numberState) {
            case N_MINUS -> {
                if (!digit) {
                    state = BROKEN;
                    return false;
                }
                numberState = c == '0' ? N_ZERO : N_INT;
                accumulate(c);
                return true;
            }
            case N_ZERO, N_INT -> {
                if (digit) {
                    if (numberState == N_ZERO) {
                        state = BROKEN;                    // a leading zero
                        return false;
                    }
                    accumulate(c);
                    return true;
                }
                if (c == '.') {
                    numberState = N_DOT;
                    return true;
                }
                if (c == 'e' || c == 'E') {
                    numberState = N_E;
                    return true;
                }
            }
            case N_DOT, N_E_SIGN -> {
                if (!digit) {
                    state = BROKEN;
                    return false;
                }
                numberState = numberState == N_DOT ? N_FRACTION : N_EXPONENT;
                return true;
            }
            case N_FRACTION -> {
                if (digit) {
                    return true;
                }
                if (c == 'e' || c == 'E') {
                    numberState = N_E;
                    return true;
                }
            }
            case N_E -> {
                if (c == '+' || c == '-') {
                    numberState = N_E_SIGN;
                    return true;
                }
                if (!digit) {
                    state = BROKEN;
                    return false;
                }
                numberState = N_EXPONENT;
                return true;
            }
            default -> {                                   // N_EXPONENT
                if (digit) {
                    return true;
                }
            }
        }
        // Only what may follow a value ends it; "12x" or "-0f" is no number at all, not 12 or 0.
        if (c != ' ' && c != ',' && c != '}' && c != ']' && c != '\n' && c != '\r' && c != '\t') {
            state = BROKEN;
            return false;
        }
        endNumber();
        return false;
    }

    /** The least magnitude that can take one more digit: Long.MIN_VALUE / 10, and the last digit then up to 8. */
    private static final long LAST_ROOM = Long.MIN_VALUE / 10;

    private void accumulate(int c) {
        int d = c - '0';
        if (magnitude < LAST_ROOM || magnitude == LAST_ROOM && d > 8) {
            overflow = true;
        } else if (!overflow) {
            magnitude = magnitude * 10 - d;
        }
    }

    /** A whole number ends: an integer in a usage field is its count (beyond a long, saturated). */
    private void endNumber() {
        state = AFTER_VALUE;
        boolean whole = numberState == N_ZERO || numberState == N_INT;
        boolean complete = whole || numberState == N_FRACTION || numberState == N_EXPONENT;
        if (!complete) {
            state = BROKEN;
            return;
        }
        elementWhole();
        if (!whole || !numberCounts) {
            return;
        }
        // Beyond a long is absurd, not unreadable: saturate, the biller clamps it.
        long v;
        if (overflow) {
            v = negative ? Long.MIN_VALUE : Long.MAX_VALUE;
        } else if (negative) {
            v = magnitude;
        } else {
            v = magnitude == Long.MIN_VALUE ? Long.MAX_VALUE : -magnitude;
        }
        if (usageField == INPUT) {
            input = v;
            seenInput = true;
        } else {
            output = v;
            seenOutput = true;
        }
    }

    /**
     * The usage as the upstream reported it (possibly negative or absurd: the biller clamps it),
     * or null when the answer carried none.
     */
    public Usage usage() {
        return !seenInput && !seenOutput ? null : new Usage(input, output);
    }

    /**
     * True when the document's top-level {@code choices} (the last, if repeated) is an array with no
     * element, as in OpenAI's usage chunk.
     */
    public boolean choicesEmpty() {
        return choices == 0;
    }
}
