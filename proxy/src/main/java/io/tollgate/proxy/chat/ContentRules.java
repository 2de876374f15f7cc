package io.tollgate.proxy.chat;

import io.netty.util.concurrent.FastThreadLocal;

import java.nio.CharBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Patterns a request's message text must not match (SPEC: 403 {@code content_filter}), compiled
 * once at start-up. Each text (a string {@code content}, or one part's {@code text}) is matched on
 * its own, so a keyword split across two parts or two messages is not found.
 *
 * <p>The patterns run on the event loop against texts up to the body limit: a rule with nested
 * quantifiers can backtrack for a long time, so keep rules simple.
 *
 * <p>Patterns are matched with {@link java.util.regex.Matcher#find()}; any match refuses the request.
 */
public final class ContentRules {

    /** No rules: message text is never matched at all. */
    public static final ContentRules NONE = new ContentRules(List.of());

    private final KeywordMatcher keywords;       // null: none
    private final int keywordCount;
    private final List<Pattern> patterns;
    /**
     * One {@link Matcher} per pattern and thread, reset for every text: a new one per text (with
     * its group arrays) was most of what the rules allocated on the event loop.
     */
    private final FastThreadLocal<Matcher[]> matchers;

    /** Regular expressions only. */
    public ContentRules(List<Pattern> patterns) {
        this(List.of(), patterns);
    }

    private ContentRules(List<String> keywords, List<Pattern> patterns) {
        this.keywords = keywords.isEmpty() ? null : new KeywordMatcher(keywords);
        this.keywordCount = keywords.size();
        patterns = List.copyOf(patterns);
        for (Pattern p : patterns) {
            // Such a rule would refuse every request that has any text: surely a typo like "a|".
            if (p.matcher("").find()) {
                throw new IllegalArgumentException("content rule matches empty text: " + p.pattern());
            }
        }
        this.patterns = patterns;
        List<Pattern> compiled = this.patterns;
        this.matchers = new FastThreadLocal<>() {
            @Override
            protected Matcher[] initialValue() {
                Matcher[] m = new Matcher[compiled.size()];
                for (int i = 0; i < m.length; i++) {
                    m[i] = compiled.get(i).matcher("");
                }
                return m;
            }
        };
    }

    /**
     * Keywords (literal, case-insensitive in Unicode's simple case folding) and Java regular
     * expressions (as written: add {@code (?i)} to ignore case).
     *
     * @throws IllegalArgumentException for a blank keyword or an expression that does not compile
     */
    public static ContentRules of(Collection<String> keywords, Collection<String> expressions) {
        List<Pattern> compiled = new ArrayList<>();
        for (String k : keywords) {
            if (Objects.requireNonNull(k, "keyword").isBlank()) {
                throw new IllegalArgumentException("content rule keyword must not be blank");
            }
        }
        for (String e : expressions) {
            try {
                compiled.add(Pattern.compile(Objects.requireNonNull(e, "expression")));
            } catch (PatternSyntaxException bad) {
                throw new IllegalArgumentException("content rule is not a valid regular expression: "
                        + bad.getMessage(), bad);
            }
        }
        return compiled.isEmpty() && keywords.isEmpty() ? NONE : new ContentRules(List.copyOf(keywords), compiled);
    }

    /** How many keywords, matched together in one pass over a text ({@link KeywordMatcher}). */
    public int keywordCount() {
        return keywordCount;
    }

    /** The regular expressions, each matched on its own. */
    public List<Pattern> patterns() {
        return patterns;
    }

    public boolean isEmpty() {
        return keywords == null && patterns.isEmpty();
    }

    /** Whether any rule is found in {@code text}. */
    public boolean matches(CharSequence text) {
        return (keywords != null && keywords.find(text)) || patternsMatch(text);
    }

    /** Whether any rule is found in {@code length} characters of {@code chars} from {@code offset}. */
    public boolean matches(char[] chars, int offset, int length) {
        return (keywords != null && keywords.find(chars, offset, offset + length))
                || (!patterns.isEmpty() && patternsMatch(CharBuffer.wrap(chars, offset, length)));
    }

    private boolean patternsMatch(CharSequence text) {
        if (patterns.isEmpty()) {
            return false;
        }
        Matcher[] mine = matchers.get();
        try {
            for (Matcher m : mine) {
                if (m.reset(text).find()) {
                    return true;
                }
            }
            return false;
        } finally {
            for (Matcher m : mine) {
                m.reset("");                 // let go of the text
            }
        }
    }

    @Override
    public String toString() {
        return "ContentRules[" + keywordCount + " keywords, expressions " + patterns.stream().map(Pattern::pattern).toList() + "]";
    }
}
