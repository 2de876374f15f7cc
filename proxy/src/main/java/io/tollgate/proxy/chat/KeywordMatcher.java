package io.tollgate.proxy.chat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Finds any of a set of keywords in a text, ignoring case, in one pass over the text whatever the
 * number of keywords (Aho–Corasick). A regex alternation of the same keywords tries every keyword
 * at every position: with a relay site's list of hundreds, that cost grows with the list.
 *
 * <p>Case is ignored per UTF-16 unit as {@link String#regionMatches(boolean, int, String, int, int)}
 * and {@link java.util.regex.Pattern#UNICODE_CASE} do: two characters are equal when their upper
 * cases' lower cases are.
 */
final class KeywordMatcher {

    /** Per state: the characters it has an edge on (sorted) and where each leads. */
    private final char[][] labels;
    private final int[][] targets;
    private final int[] fail;
    private final boolean[] accepts;

    KeywordMatcher(Collection<String> keywords) {
        List<StringBuilder> edgeLabels = new ArrayList<>();
        List<List<Integer>> edgeTargets = new ArrayList<>();
        List<Boolean> accept = new ArrayList<>();
        edgeLabels.add(new StringBuilder());
        edgeTargets.add(new ArrayList<>());
        accept.add(false);
        for (String keyword : keywords) {
            int state = 0;
            for (int i = 0; i < keyword.length(); i++) {
                char c = fold(keyword.charAt(i));
                int at = edgeLabels.get(state).indexOf(String.valueOf(c));
                if (at >= 0) {
                    state = edgeTargets.get(state).get(at);
                } else {
                    int next = edgeLabels.size();
                    edgeLabels.add(new StringBuilder());
                    edgeTargets.add(new ArrayList<>());
                    accept.add(false);
                    edgeLabels.get(state).append(c);
                    edgeTargets.get(state).add(next);
                    state = next;
                }
            }
            accept.set(state, true);
        }
        int n = edgeLabels.size();
        labels = new char[n][];
        targets = new int[n][];
        accepts = new boolean[n];
        for (int s = 0; s < n; s++) {
            // sorted edges, for a binary search per character
            char[] l = edgeLabels.get(s).toString().toCharArray();
            Integer[] order = new Integer[l.length];
            for (int i = 0; i < l.length; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Character.compare(l[a], l[b]));
            labels[s] = new char[l.length];
            targets[s] = new int[l.length];
            for (int i = 0; i < l.length; i++) {
                labels[s][i] = l[order[i]];
                targets[s][i] = edgeTargets.get(s).get(order[i]);
            }
            accepts[s] = accept.get(s);
        }
        fail = new int[n];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int child : targets[0]) {
            queue.add(child);                        // fail[child] = 0
        }
        while (!queue.isEmpty()) {
            int s = queue.poll();
            for (int i = 0; i < labels[s].length; i++) {
                int child = targets[s][i];
                int f = fail[s];
                int to;
                while ((to = edge(f, labels[s][i])) < 0 && f != 0) {
                    f = fail[f];
                }
                fail[child] = to >= 0 && to != child ? to : 0;
                accepts[child] |= accepts[fail[child]];   // a keyword ending inside a longer one
                queue.add(child);
            }
        }
    }

    /** Whether any keyword occurs in {@code text}. */
    boolean find(CharSequence text) {
        int state = 0;
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = fold(text.charAt(i));
            int to;
            while ((to = edge(state, c)) < 0 && state != 0) {
                state = fail[state];
            }
            state = to < 0 ? 0 : to;
            if (accepts[state]) {
                return true;
            }
        }
        return false;
    }

    private int edge(int state, char c) {
        int at = Arrays.binarySearch(labels[state], c);
        return at < 0 ? -1 : targets[state][at];
    }

    static char fold(char c) {
        if (c < 128) {
            return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
        }
        return Character.toLowerCase(Character.toUpperCase(c));
    }
}
