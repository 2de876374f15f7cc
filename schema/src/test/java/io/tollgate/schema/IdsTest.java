package io.tollgate.schema;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

class IdsTest {

    private static final String ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    @Test
    void anIdIsItsPrefixAndTwentyBase62Characters() {
        String id = Ids.newId("le");
        assertThat(id).startsWith("le_").hasSize(23);
        assertThat(id.substring(3).chars()).allMatch(c -> ALPHABET.indexOf(c) >= 0);
    }

    @Test
    void everyLengthIsFilledWholly() {
        for (int n = 0; n <= 100; n++) {
            String s = Ids.random(n);
            assertThat(s).hasSize(n);
            assertThat(s.chars()).allMatch(c -> ALPHABET.indexOf(c) >= 0);
        }
    }

    @Test
    void charactersAreUniformAndIdsDoNotRepeat() {
        assertUniformAndUnique(() -> Ids.random(20));
    }

    @Test
    void theRandomPartOfTimeOrderedIdsIsUniformToo() {
        assertUniformAndUnique(() -> Ids.timeOrderedId("le", 1_700_000_000_000L).substring(15));
    }

    private static void assertUniformAndUnique(Supplier<String> source) {
        int[] counts = new int[128];
        Set<String> seen = new HashSet<>();
        int ids = 20_000;
        long chars = 0;
        for (int i = 0; i < ids; i++) {
            String s = source.get();
            assertThat(seen.add(s)).isTrue();
            s.chars().forEach(c -> counts[c]++);
            chars += s.length();
        }
        double expected = (double) chars / ALPHABET.length();
        for (char c : ALPHABET.toCharArray()) {
            // Five standard deviations either way: a skewed mapping (say, modulo 62 of a byte,
            // which favours the first eight characters by 25%) lands far outside.
            assertThat((double) counts[c]).as("count of '%s'", c).isBetween(expected - 5 * Math.sqrt(expected),
                    expected + 5 * Math.sqrt(expected));
        }
    }

    @Test
    void timeOrderedIdsSortByTheirMillisecondAndDoNotRepeat() {
        String early = Ids.timeOrderedId("le", 1_700_000_000_000L);
        String later = Ids.timeOrderedId("le", 1_700_000_000_001L);
        assertThat(early).hasSize(23).startsWith("le_018bcfe5680");
        assertThat(early.substring(3, 15)).isEqualTo("018bcfe56800");
        assertThat(later.substring(3, 15)).isEqualTo("018bcfe56801");
        assertThat(early.compareTo(later)).isNegative();
        assertThat(early.substring(15).chars()).allMatch(c -> ALPHABET.indexOf(c) >= 0);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            assertThat(seen.add(Ids.timeOrderedId("le", 1_700_000_000_000L))).isTrue();
        }
    }
}
