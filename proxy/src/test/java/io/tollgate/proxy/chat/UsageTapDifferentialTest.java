package io.tollgate.proxy.chat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link UsageTap}'s own tokenizer against Jackson's non-blocking parser ({@link JacksonUsageTap},
 * the tap it replaced): random answers, whole and in random pieces, in heap and direct buffers,
 * cut short and with a byte changed, must give the same usage and the same verdict on choices.
 */
class UsageTapDifferentialTest {

    private static final String[] NAMES = {"usage", "choices", "prompt_tokens", "completion_tokens", "input_tokens",
            "output_tokens", "total_tokens", "id", "message", "content", "us\\u0061ge", "prompt\\u005ftokens",
            "\\u0075sage", "usage ", "Usage", "completion_tokens_details", "x\\\"y", "modèle", ""};

    private final Random random = new Random(20261206);

    private String name() {
        return "\"" + NAMES[random.nextInt(NAMES.length)] + "\"";
    }

    private String number() {
        return switch (random.nextInt(9)) {
            case 0 -> "0";
            case 1 -> "-0";
            case 2 -> Integer.toString(random.nextInt(100_000));
            case 3 -> Long.toString(random.nextLong());
            case 4 -> "99999999999999999999999";
            case 5 -> "-9223372036854775808";
            case 6 -> "9223372036854775808";
            case 7 -> random.nextInt(100) + "." + random.nextInt(100);
            default -> random.nextInt(10) + (random.nextBoolean() ? "e" : "E+") + random.nextInt(20);
        };
    }

    private String string() {
        StringBuilder sb = new StringBuilder("\"");
        int n = random.nextInt(12);
        for (int i = 0; i < n; i++) {
            switch (random.nextInt(8)) {
                case 0 -> sb.append("\\\"");
                case 1 -> sb.append("\\\\");
                case 2 -> sb.append("\\u00e9");
                case 3 -> sb.append("é中");
                case 4 -> sb.append("\\n");
                case 5 -> sb.append("\"usage\":{\"prompt_tokens\":7}".replace("\"", "\\\""));
                default -> sb.append((char) ('a' + random.nextInt(26)));
            }
        }
        return sb.append('"').toString();
    }

    private String value(int depth) {
        int kind = random.nextInt(depth > 5 ? 4 : 7);
        return switch (kind) {
            case 0 -> number();
            case 1 -> string();
            case 2 -> new String[] {"true", "false", "null"}[random.nextInt(3)];
            case 3 -> number();
            case 4, 5 -> object(depth + 1);
            default -> array(depth + 1);
        };
    }

    private String object(int depth) {
        StringBuilder sb = new StringBuilder("{");
        int n = random.nextInt(5);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(random.nextInt(4) == 0 ? " , " : ",");
            }
            sb.append(name()).append(random.nextInt(4) == 0 ? " :\n" : ":").append(value(depth));
        }
        return sb.append('}').toString();
    }

    private String array(int depth) {
        StringBuilder sb = new StringBuilder("[");
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(random.nextInt(5) == 0 ? "\t" : "").append(value(depth));
        }
        return sb.append(']').toString();
    }

    /** An answer-like document: a root object whose usage and choices are often there. */
    private String answer() {
        StringBuilder sb = new StringBuilder("{");
        int n = 1 + random.nextInt(5);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(',');
            }
            switch (random.nextInt(4)) {
                case 0 -> sb.append("\"usage\":").append(object(1));
                case 1 -> sb.append("\"usage\":{\"prompt_tokens\":").append(number()).append(",\"completion_tokens\":")
                        .append(number()).append('}');
                case 2 -> sb.append("\"choices\":").append(array(1));
                default -> sb.append(name()).append(':').append(value(1));
            }
        }
        return sb.append('}').toString();
    }

    /** Random piece sizes that add up to {@code length}: the same cuts for both taps. */
    private int[] pieces(int length) {
        int[] cuts = new int[length + 1];
        int n = 0;
        for (int i = 0; i < length; ) {
            int piece = Math.min(length - i, 1 + random.nextInt(random.nextBoolean() ? 4 : 64));
            cuts[n++] = piece;
            i += piece;
        }
        return java.util.Arrays.copyOf(cuts, n);
    }

    private static void feed(byte[] doc, int[] pieces, java.util.function.Consumer<ByteBuf> tap, boolean direct) {
        int i = 0;
        for (int piece : pieces) {
            ByteBuf chunk = direct ? Unpooled.directBuffer(piece).writeBytes(doc, i, piece)
                    : Unpooled.wrappedBuffer(doc, i, piece);
            tap.accept(chunk);
            chunk.release();
            i += piece;
        }
    }

    /** Returns whether the document had usage: the test must see many that do. */
    private boolean assertAgree(byte[] doc, String what) {
        return assertAgree(doc, what, false);
    }

    /**
     * Both taps over the same pieces; with {@code validOnly}, a document Jackson fails on is
     * skipped (where exactly a malformed document stops being read differs in documented ways:
     * UTF-8, a number's next byte) and false is returned.
     */
    private boolean assertAgree(byte[] doc, String what, boolean validOnly) {
        int[] pieces = pieces(doc.length);
        JacksonUsageTap expected = new JacksonUsageTap();
        feed(doc, pieces, expected::feed, false);
        expected.end();
        if (validOnly && expected.broken()) {
            return false;
        }
        UsageTap actual = new UsageTap();
        feed(doc, pieces, actual::feed, random.nextBoolean());
        actual.end();
        String shown = new String(doc, StandardCharsets.UTF_8);
        assertThat(actual.usage()).as("%s: %s in pieces of %s", what, shown, java.util.Arrays.toString(pieces)).isEqualTo(expected.usage());
        assertThat(actual.choicesEmpty()).as("%s, choices: %s in pieces of %s", what, shown, java.util.Arrays.toString(pieces)).isEqualTo(expected.choicesEmpty());
        return expected.usage() != null;
    }

    @Test
    void wholeAnswersInRandomPieces() {
        int withUsage = 0;
        for (int n = 0; n < 10_000; n++) {
            if (assertAgree(answer().getBytes(StandardCharsets.UTF_8), "whole")) {
                withUsage++;
            }
        }
        assertThat(withUsage).as("answers with usage").isGreaterThan(2_500);
    }

    @Test
    void answersCutShort() {
        for (int n = 0; n < 5_000; n++) {
            byte[] doc = answer().getBytes(StandardCharsets.UTF_8);
            assertAgree(java.util.Arrays.copyOf(doc, random.nextInt(doc.length)), "cut");
        }
    }

    @Test
    void answersWithAByteChangedThatStayValid() {
        byte[] alphabet = "{}[]:,\"\\ \t\n-+.0123456789eEtrufalsn/ux#\u0001".getBytes(StandardCharsets.ISO_8859_1);
        int withUsage = 0;
        for (int n = 0; n < 20_000; n++) {
            byte[] doc = answer().getBytes(StandardCharsets.UTF_8);
            doc[random.nextInt(doc.length)] = alphabet[random.nextInt(alphabet.length)];
            if (assertAgree(doc, "changed", true)) {
                withUsage++;
            }
        }
        assertThat(withUsage).as("changed answers still valid, with usage").isGreaterThan(1_500);
    }

    @Test
    void deepNestingStopsWhereJacksonsLimitIs() {
        for (int depth : new int[] {999, 1000, 1001}) {
            String doc = "[".repeat(depth - 1) + "{\"usage\":{\"prompt_tokens\":1}}" + "]".repeat(depth - 1);
            assertAgree(("{\"usage\":{\"prompt_tokens\":5}," + "\"x\":" + doc + ",\"usage\":{\"prompt_tokens\":6}}")
                    .getBytes(StandardCharsets.UTF_8), "depth " + depth);
        }
    }
}
