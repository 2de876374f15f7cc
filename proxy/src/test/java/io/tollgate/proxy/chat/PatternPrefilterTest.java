package io.tollgate.proxy.chat;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The prefilter may only skip positions where no match starts: content rules with it find exactly
 * what {@link java.util.regex.Matcher#find()} finds, on random expressions and texts.
 */
class PatternPrefilterTest {

    @Test
    void readsWhereTheBenchsRulesCanStart() {
        PatternPrefilter key = PatternPrefilter.of("sk-[A-Za-z0-9]{32,}");
        assertThat(key).isNotNull();
        assertThat(key.prefix()).isEqualTo("sk-");
        PatternPrefilter card = PatternPrefilter.of("\\b(?:\\d[ -]?){13,16}\\b");
        assertThat(card).isNotNull();
        assertThat(card.prefix()).isEmpty();
        char[] text = "a 4111".toCharArray();
        assertThat(card.next(text, 0, text.length)).isEqualTo(2);
        assertThat(card.next(text, 3, text.length)).isEqualTo(3);
        assertThat(card.next(text, 0, 2)).isEqualTo(-1);
        char[] keys = "ask sk- sk-1".toCharArray();
        assertThat(key.next(keys, 0, keys.length)).isEqualTo(4);
        assertThat(key.next(keys, 5, keys.length)).isEqualTo(8);
        assertThat(key.next(keys, 5, 10)).as("the prefix must fit before the end").isEqualTo(-1);
    }

    @Test
    void aQuantifiedOrAlternativeStartShortensOrDropsThePrefix() {
        assertThat(PatternPrefilter.of("abc?d").prefix()).isEqualTo("ab");
        assertThat(PatternPrefilter.of("ab{0,2}c").prefix()).isEqualTo("a");
        assertThat(PatternPrefilter.of("a*b").prefix()).isEmpty();
        assertThat(PatternPrefilter.of("abc|xyz").prefix()).isEmpty();
        assertThat(PatternPrefilter.of("ab(c|x)").prefix()).isEqualTo("ab");
        char[] text = "xyz".toCharArray();
        assertThat(PatternPrefilter.of("abc|xyz").next(text, 0, 3)).isZero();
        assertThat(PatternPrefilter.of("a?b*c").next(text, 0, 3)).isEqualTo(-1);
    }

    @Test
    void whatTheReaderDoesNotKnowGetsNoPrefilter() {
        for (String regex : List.of("(?i)abc", "a(?i)b", "a.b", "[^a]x", "(?=a)b", "(?<=a)b", "(a)\\1", "é",
                "\\p{L}x", "[a[b]]", "[a-z&&[^x]]", "\\Qa\\E", "\\x41", "\\Ga", "a|b*", "x*", "\\bx?", "\\u0041")) {
            assertThat(PatternPrefilter.of(regex)).as(regex).isNull();
        }
    }

    @Test
    void rulesFindExactlyWhatFindFinds() {
        Random r = new Random(7);
        String alphabet = "ab1 -_\t9é\nB";
        int prefiltered = 0;
        int compared = 0;
        for (int round = 0; round < 3000; round++) {
            String regex = sequence(r, 0);
            Pattern p;
            try {
                p = Pattern.compile(regex);
            } catch (PatternSyntaxException bad) {
                continue;
            }
            if (p.matcher("").find()) {
                continue;                                    // refused as a rule
            }
            ContentRules rules = new ContentRules(List.of(p));
            if (rules.prefiltered(0)) {
                prefiltered++;
            }
            for (int t = 0; t < 25; t++) {
                String text = random(r, alphabet, r.nextInt(16));
                String before = random(r, alphabet, r.nextInt(3));
                char[] around = (before + text + random(r, alphabet, r.nextInt(3))).toCharArray();
                boolean expected = p.matcher(text).find();
                assertThat(rules.matches(text)).as("/%s/ in \"%s\"", regex, text).isEqualTo(expected);
                assertThat(rules.matches(around, before.length(), text.length()))
                        .as("/%s/ in \"%s\" inside \"%s\"", regex, text, new String(around)).isEqualTo(expected);
                compared++;
            }
        }
        assertThat(compared).isGreaterThan(15_000);
        assertThat(prefiltered).as("expressions the prefilter applied to").isGreaterThan(700);
    }

    private static String sequence(Random r, int depth) {
        StringBuilder sb = new StringBuilder();
        for (int n = 1 + r.nextInt(3); n > 0; n--) {
            String atom = atom(r, depth);
            // a quantified group inside a quantified group backtracks for ages on a long text
            sb.append(atom).append(atom.startsWith("(") && depth > 0 ? "" : quantifier(r));
        }
        if (r.nextInt(8) == 0) {
            sb.append('|').append(sequence(r, depth + 1));
        }
        return sb.toString();
    }

    private static String atom(Random r, int depth) {
        int k = r.nextInt(depth > 2 ? 20 : 24);
        return switch (k) {
            case 0, 1, 2, 3, 4 -> String.valueOf("ab1 -"
                    .charAt(r.nextInt(5)));
            case 5 -> "\\d";
            case 6 -> "\\w";
            case 7 -> "\\s";
            case 8 -> "\\b";
            case 9 -> "\\B";
            case 10 -> r.nextBoolean() ? "^" : "$";
            case 11 -> "[a-b1]";
            case 12 -> "[\\d -]";
            case 13 -> "\\-";
            case 14 -> ".";                                   // unknown to the reader
            case 15 -> "(?i)b";
            case 16 -> "(?<=a)";
            case 17 -> "é";
            case 18 -> "[^a]";
            case 19 -> "\\t";
            case 20, 21 -> "(" + sequence(r, depth + 1) + ")";
            default -> "(?:" + sequence(r, depth + 1) + ")";
        };
    }

    private static String quantifier(Random r) {
        String q = switch (r.nextInt(10)) {
            case 0 -> "?";
            case 1 -> "*";
            case 2 -> "+";
            case 3 -> "{0,2}";
            case 4 -> "{1,3}";
            case 5 -> "{2}";
            default -> "";
        };
        return q.isEmpty() || r.nextInt(4) != 0 ? q : q + (r.nextBoolean() ? "?" : "+");
    }

    private static String random(Random r, String alphabet, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
