package io.tollgate.bench.jmh;

import io.tollgate.bench.TollgateBenchServer;
import io.tollgate.proxy.chat.ContentRules;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The content rules the bench's proxy runs with (three keywords, a card-number and a secret-key
 * pattern) over one message text that matches none of them, as the inspector hands it over: the
 * parser's own characters. {@code keywords} and {@code patterns} are the two halves on their own.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ContentRulesBenchmark {

    /** Characters of text: the bench's chat message, and a long pasted document. */
    @Param({"64", "4096"})
    int chars;

    private final ContentRules rules = TollgateBenchServer.CONTENT_RULES;
    private char[] text;

    @Setup
    public void setup() {
        Random random = new Random(chars);
        StringBuilder sb = new StringBuilder(chars + 16);
        while (sb.length() < chars) {
            sb.append(sb.isEmpty() ? "" : " ").append(Samples.word(random));
            if (random.nextInt(10) == 0) {
                sb.append(random.nextBoolean() ? ". " : ", 42");   // digits, but never a card number
            }
        }
        text = sb.substring(0, chars).toCharArray();
        if (rules.matches(text, 0, text.length)) {
            throw new IllegalStateException("the sample text must not match the rules");
        }
    }

    private final ContentRules keywords = ContentRules.of(TollgateBenchServer.CONTENT_KEYWORDS, List.of());
    private final ContentRules patterns = ContentRules.of(List.of(), TollgateBenchServer.CONTENT_PATTERNS);

    @Benchmark
    public boolean matches() {
        return rules.matches(text, 0, text.length);
    }

    @Benchmark
    public boolean keywords() {
        return keywords.matches(text, 0, text.length);
    }

    @Benchmark
    public boolean patterns() {
        return patterns.matches(text, 0, text.length);
    }
}
