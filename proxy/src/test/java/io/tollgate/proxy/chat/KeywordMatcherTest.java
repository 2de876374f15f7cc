package io.tollgate.proxy.chat;

import org.junit.jupiter.api.Test;

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
    void agreesWithTheRegexAlternationOnRandomTexts() {
        Random r = new Random(42);
        String alphabet = "abAB cÄäßΣσς";
        for (int round = 0; round < 300; round++) {
            List<String> keywords = new ArrayList<>();
            for (int k = 1 + r.nextInt(6); k > 0; k--) {
                keywords.add(random(r, alphabet, 1 + r.nextInt(4)));
            }
            Pattern regex = Pattern.compile(keywords.stream().map(Pattern::quote).collect(Collectors.joining("|")),
                    Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
            KeywordMatcher m = new KeywordMatcher(keywords);
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
