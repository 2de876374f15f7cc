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
 *
 * <p>An ASCII character costs one table lookup: the automaton's moves on the ASCII characters of
 * the keywords, failure links already followed, are a dense table (one row per state, one column
 * per such character, one for all others). Other characters walk the trie's sorted edges and its
 * failure links. A list so long that the table would pass {@link #DENSE_LIMIT} entries walks the
 * edges for every character.
 */
final class KeywordMatcher {

    /** Entries of the dense table at most (4 bytes each): 16 MB. */
    static final int DENSE_LIMIT = 1 << 22;

    /** Per state: the characters it has an edge on (sorted) and where each leads. */
    private final char[][] labels;
    private final int[][] targets;
    private final int[] fail;
    private final boolean[] accepts;
    /** ASCII character (either case) to its column in {@link #dense}; 0 for one no keyword has. */
    private final byte[] column = new byte[128];
    private final int width;
    /** Next state, at {@code state * width + column}; null when over {@link #DENSE_LIMIT}. */
    private final int[] dense;

    KeywordMatcher(Collection<String> keywords) {
        this(keywords, DENSE_LIMIT);
    }

    KeywordMatcher(Collection<String> keywords, int denseLimit) {
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
        int[] breadthFirst = new int[n];             // every state after its failure state
        int visited = 1;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int child : targets[0]) {
            queue.add(child);                        // fail[child] = 0
        }
        while (!queue.isEmpty()) {
            int s = queue.poll();
            breadthFirst[visited++] = s;
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
        int columns = 0;
        for (char[] l : labels) {
            for (char c : l) {
                if (c < 128 && column[c] == 0) {
                    column[c] = (byte) ++columns;       // c is folded: lower case
                }
            }
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            column[c] = column[c + 32];
        }
        width = columns + 1;
        dense = (long) n * width > denseLimit ? null : denseTable(breadthFirst);
    }

    /** Each state's move on each column: its own edge, else its failure state's (already filled). */
    private int[] denseTable(int[] breadthFirst) {
        int[] table = new int[breadthFirst.length * width];
        for (int s : breadthFirst) {
            for (char c = 0; c < 128; c++) {
                int col = column[c];
                if (col == 0 || (c >= 'A' && c <= 'Z')) {
                    continue;                            // column 0 always leads to the root
                }
                int to = edge(s, c);
                table[s * width + col] = to >= 0 ? to : s == 0 ? 0 : table[fail[s] * width + col];
            }
        }
        return table;
    }

    /** Whether any keyword occurs in {@code text}. */
    boolean find(CharSequence text) {
        return find(text.toString().toCharArray(), 0, text.length());
    }

    /** Whether any keyword occurs in {@code text[from, to)}. */
    boolean find(char[] text, int from, int to) {
        int[] table = dense;
        int state = 0;
        for (int i = from; i < to; i++) {
            char c = text[i];
            if (c >= 128 || table == null) {
                c = fold(c);                             // a few fold into ASCII: K (Kelvin) into k
            }
            if (c < 128 && table != null) {
                state = table[state * width + column[c]];
            } else {
                int next;
                while ((next = edge(state, c)) < 0 && state != 0) {
                    state = fail[state];
                }
                state = next < 0 ? 0 : next;
            }
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
