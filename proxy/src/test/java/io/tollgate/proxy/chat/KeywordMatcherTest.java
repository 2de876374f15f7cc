package io.tollgate.proxy.chat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The keyword automaton finds exactly what a case-insensitive regex alternation finds. */
class KeywordMatcherTest {

    @Test
    void findsKeywordsAnywhereIgnoringCase() {
        KeywordMatcher m = new KeywordMatcher(List.of("he", "she", "his", "hers", "Straße"));
        assertThat(m.find("usher")).isTrue();             // "she" and "he" end inside
        assertThat(m.find("aHIS")).isTrue();
        assertThat(m.find("hxrs")).isFalse();
        assertThat(m.find("STRASSE")).isFalse();          // per character: ß is not ss
        assertThat(m.find("die STRAßE")).isTrue();
        assertThat(m.find("")).isFalse();
    }

    @Test
    void aKeywordInsideALongerOnesFailurePathIsFound() {
        KeywordMatcher m = new KeywordMatcher(List.of("abcd", "bc"));
        assertThat(m.find("xabcx")).isTrue();             // "bc" while still inside a partial "abcd"
        assertThat(m.find("abd")).isFalse();
    }

    @Test
    void charactersThatFoldIntoAsciiMatchTheirAsciiLetters() {
        KeywordMatcher m = new KeywordMatcher(List.of("kiss"));
        assertThat(m.find("\u212Aiss")).as("Kelvin sign").isTrue();
        assertThat(m.find("ki\u017Fs")).as("long s").isTrue();
        assertThat(new KeywordMatcher(List.of("\u212Aelvin")).find("KELVIN")).isTrue();
    }

    @Test
    void aTextSliceIsSearchedWithinItsBoundsOnly() {
        char[] text = "bomb in the middle".toCharArray();
        KeywordMatcher m = new KeywordMatcher(List.of("bomb", "middle"));
        assertThat(m.find(text, 1, 12)).isFalse();
        assertThat(m.find(text, 0, 4)).isTrue();
        assertThat(m.find(text, 12, text.length)).isTrue();
    }

    /** With the dense table for ASCII and, over its size limit, without it. */
    @ParameterizedTest(name = "dense limit {0}")
    @ValueSource(ints = {KeywordMatcher.DENSE_LIMIT, 0})
    void agreesWithTheRegexAlternationOnRandomTexts(int denseLimit) {
        Random r = new Random(42);
        String alphabet = "abAB c-ÄäßΣσς\u212A\u017Fks";
        for (int round = 0; round < 300; round++) {
            List<String> keywords = new ArrayList<>();
            for (int k = 1 + r.nextInt(6); k > 0; k--) {
                keywords.add(random(r, alphabet, 1 + r.nextInt(4)));
            }
            Pattern regex = Pattern.compile(keywords.stream().map(Pattern::quote).collect(Collectors.joining("|")),
                    Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
            KeywordMatcher m = new KeywordMatcher(keywords, denseLimit);
            for (int t = 0; t < 20; t++) {
                String text = random(r, alphabet, r.nextInt(30));
                assertThat(m.find(text)).as("%s in %s", keywords, text).isEqualTo(regex.matcher(text).find());
            }
        }
    }

    private static String random(Random r, String alphabet, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
