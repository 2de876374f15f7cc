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
 * <p>A pattern refuses the request when {@link java.util.regex.Matcher#find()} would find it in a
 * text. Where {@link PatternPrefilter} can read from a pattern's source what its matches start
 * with, the pattern is tried only at the positions that start that way (the same answer, a few
 * times faster on ordinary text); otherwise at every position. Keywords are matched all together
 * in one pass ({@link KeywordMatcher}), whatever their number.
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
    /** Per pattern, where a match can start ({@link PatternPrefilter}); null: anywhere. */
    private final PatternPrefilter[] prefilters;

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
        this.prefilters = new PatternPrefilter[patterns.size()];
        for (int i = 0; i < prefilters.length; i++) {
            Pattern p = patterns.get(i);
            prefilters[i] = p.flags() == 0 ? PatternPrefilter.of(p.pattern()) : null;
        }
        List<Pattern> compiled = this.patterns;
        this.matchers = new FastThreadLocal<>() {
            @Override
            protected Matcher[] initialValue() {
                Matcher[] m = new Matcher[compiled.size()];
                for (int i = 0; i < m.length; i++) {
                    // A match tried from one position on (a region) sees the text around it, and
                    // ^ matches only where the text starts: as find() over the whole text would.
                    m[i] = compiled.get(i).matcher("").useTransparentBounds(true).useAnchoringBounds(false);
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
        char[] chars = text.toString().toCharArray();
        return matches(chars, 0, chars.length);
    }

    /** Whether any rule is found in {@code length} characters of {@code chars} from {@code offset}. */
    public boolean matches(char[] chars, int offset, int length) {
        int end = offset + length;
        if (keywords != null && keywords.find(chars, offset, end)) {
            return true;
        }
        Matcher[] mine = null;
        CharBuffer text = null;
        for (int i = 0; i < prefilters.length; i++) {
            PatternPrefilter where = prefilters[i];
            int at = where == null ? offset : where.next(chars, offset, end);
            if (at < 0) {
                continue;                    // no position where a match could start: not run at all
            }
            if (mine == null) {
                mine = matchers.get();
                text = CharBuffer.wrap(chars, offset, length);
            }
            Matcher m = mine[i].reset(text);
            try {
                if (where == null ? m.find() : foundFrom(m, where, chars, at, offset, end)) {
                    return true;
                }
            } finally {
                m.reset("");                 // let go of the text
            }
        }
        return false;
    }

    /** Tries {@code m} at {@code at} and at every later position the prefilter lets a match start. */
    private static boolean foundFrom(Matcher m, PatternPrefilter where, char[] chars, int at, int offset, int end) {
        for (; at >= 0; at = where.next(chars, at + 1, end)) {
            m.region(at - offset, end - offset);
            if (m.lookingAt()) {
                return true;
            }
        }
        return false;
    }

    /** Whether the pattern at {@code index} is tried only where its prefilter lets it start (tests). */
    boolean prefiltered(int index) {
        return prefilters[index] != null;
    }

    @Override
    public String toString() {
        return "ContentRules[" + keywordCount + " keywords, expressions " + patterns.stream().map(Pattern::pattern).toList() + "]";
    }
}
