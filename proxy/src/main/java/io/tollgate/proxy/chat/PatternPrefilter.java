package io.tollgate.proxy.chat;

/**
 * What every match of a content rule's regular expression starts with, read off its source: the
 * ASCII characters its first character can be, and the literal text it begins with (often empty).
 * {@link ContentRules} runs the expression only where a text has such a character, instead of at
 * every position: {@code find()} tries each position in turn, and on ordinary text that costs
 * several nanoseconds per character and expression whether anything is near a match or not.
 *
 * <p>The reader is deliberately narrow, since a filter that skips a real match would let a refused
 * request through. It knows literal ASCII characters, {@code \d \w \s} and escaped punctuation,
 * simple classes ({@code [A-Za-z0-9_-]}), groups {@code (…)} and {@code (?:…)}, alternation,
 * greedy, lazy and possessive quantifiers, and the zero-width {@code ^ $ \b \B}. Anything else
 * anywhere in the expression (inline flags, lookaround, back references, negated or nested
 * classes, {@code .}, non-ASCII characters, other escapes) gives no prefilter, and the expression
 * is tried at every position as before. Expressions are compiled without flags, so {@code \d} and
 * friends are ASCII-only and nothing ignores case.
 */
final class PatternPrefilter {

    /** Whether a match may start with this ASCII character; no match starts with any other. */
    private final boolean[] first;
    /** Every match starts with this text. */
    private final String prefix;

    private PatternPrefilter(boolean[] first, String prefix) {
        this.first = first;
        this.prefix = prefix;
    }

    /** The prefilter of {@code regex}, or null when its source is not one this reader fully knows. */
    static PatternPrefilter of(String regex) {
        Reader r = new Reader(regex);
        Starts s = r.alternation();
        if (s == null || r.at < regex.length() || s.empty) {
            return null;
        }
        return new PatternPrefilter(s.first, r.branches == 1 ? literalPrefix(regex) : "");
    }

    /** The first position from {@code from} on where a match may start, or -1 (the text ends before {@code end}). */
    int next(char[] text, int from, int end) {
        boolean[] starts = first;
        for (int at = from; at < end; at++) {
            char c = text[at];
            if (c < 128 && starts[c] && startsWithPrefix(text, at, end)) {
                return at;
            }
        }
        return -1;
    }

    private boolean startsWithPrefix(char[] text, int at, int end) {
        int n = prefix.length();
        if (n > end - at) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            if (text[at + k] != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    String prefix() {
        return prefix;
    }

    /** The leading literal characters, less the last one when a quantifier follows it. */
    private static String literalPrefix(String regex) {
        int n = 0;
        while (n < regex.length() && literal(regex.charAt(n))) {
            n++;
        }
        if (n < regex.length() && "?*+{".indexOf(regex.charAt(n)) >= 0) {
            n--;
        }
        return regex.substring(0, Math.max(n, 0));
    }

    /** Characters that stand for themselves outside a class (no flags: no comments mode). */
    private static boolean literal(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || " -_:=@,/'\"!%&~;<>`#".indexOf(c) >= 0;
    }

    /** The characters a piece of an expression can start with, and whether it can match nothing. */
    private record Starts(boolean[] first, boolean empty) {

        static Starts of(boolean[] first) {
            return new Starts(first, false);
        }

        static Starts zeroWidth() {
            return new Starts(new boolean[128], true);
        }

        Starts or(Starts other) {
            boolean[] both = first.clone();
            for (int c = 0; c < 128; c++) {
                both[c] |= other.first[c];
            }
            return new Starts(both, empty || other.empty);
        }

        Starts orEmpty() {
            return new Starts(first, true);
        }
    }

    /** Recursive descent over the source; every method returns null for what it does not know. */
    private static final class Reader {

        private final String re;
        private int at;
        /** Alternatives at the top level. */
        private int branches;
        private int depth;

        Reader(String re) {
            this.re = re;
        }

        private boolean more() {
            return at < re.length();
        }

        private char peek() {
            return re.charAt(at);
        }

        Starts alternation() {
            Starts s = sequence();
            if (depth == 0) {
                branches = 1;
            }
            while (s != null && more() && peek() == '|') {
                at++;
                Starts next = sequence();
                if (depth == 0) {
                    branches++;
                }
                s = next == null ? null : s.or(next);
            }
            return s;
        }

        /** Items up to a '|' or ')': their first characters until one of them cannot be empty. */
        private Starts sequence() {
            Starts s = Starts.zeroWidth();
            while (more() && peek() != '|' && peek() != ')') {
                Starts item = quantified(atom());
                if (item == null) {
                    return null;
                }
                if (s.empty) {
                    s = new Starts(s.or(item).first, item.empty);
                }
            }
            return s;
        }

        private Starts atom() {
            char c = peek();
            switch (c) {
                case '(' -> {
                    if (re.startsWith("(?:", at)) {
                        at += 3;
                    } else if (re.startsWith("(?", at)) {
                        return null;                        // flags, lookaround, named or atomic groups
                    } else {
                        at++;
                    }
                    depth++;
                    Starts inner = alternation();
                    depth--;
                    if (inner == null || !more() || peek() != ')') {
                        return null;
                    }
                    at++;
                    return inner;
                }
                case '[' -> {
                    return charClass();
                }
                case '\\' -> {
                    return escape(false);
                }
                case '^', '$' -> {
                    at++;
                    return Starts.zeroWidth();
                }
                default -> {
                    if (!literal(c)) {
                        return null;                        // '.', a dangling quantifier, non-ASCII …
                    }
                    at++;
                    return Starts.of(single(c));
                }
            }
        }

        private Starts quantified(Starts atom) {
            if (atom == null || !more()) {
                return atom;
            }
            char c = peek();
            Starts s = atom;
            if (c == '?' || c == '*') {
                at++;
                s = atom.orEmpty();
            } else if (c == '+') {
                at++;
            } else if (c == '{') {
                int close = re.indexOf('}', at);
                if (close < 0) {
                    return null;
                }
                String body = re.substring(at + 1, close);
                if (!body.matches("\\d{1,9}(,\\d{0,9})?")) {
                    return null;
                }
                at = close + 1;
                int min = Integer.parseInt(body.split(",", -1)[0]);
                s = min == 0 ? atom.orEmpty() : atom;
            } else {
                return atom;
            }
            if (more() && (peek() == '?' || peek() == '+')) {
                at++;                                       // lazy or possessive: the same characters
            }
            if (more() && "?*+{".indexOf(peek()) >= 0) {
                return null;
            }
            return s;
        }

        /** {@code [...]} with literals, ranges and {@code \d \w \s}; no negation, nesting or {@code &&}. */
        private Starts charClass() {
            at++;
            if (!more() || peek() == '^' || peek() == ']') {
                return null;
            }
            boolean[] set = new boolean[128];
            while (more() && peek() != ']') {
                char c = peek();
                if (c == '[' || re.startsWith("&&", at)) {
                    return null;
                }
                if (c == '\\') {
                    Starts e = escape(true);
                    if (e == null) {
                        return null;
                    }
                    for (int k = 0; k < 128; k++) {
                        set[k] |= e.first[k];
                    }
                    continue;
                }
                if (c >= 128) {
                    return null;
                }
                at++;
                if (more() && peek() == '-' && at + 1 < re.length() && re.charAt(at + 1) != ']') {
                    char to = re.charAt(at + 1);
                    if (to == '\\' || to == '[' || to >= 128 || to < c) {
                        return null;
                    }
                    at += 2;
                    for (char k = c; k <= to; k++) {
                        set[k] = true;
                    }
                } else {
                    set[c] = true;
                }
            }
            if (!more()) {
                return null;
            }
            at++;
            return Starts.of(set);
        }

        /** {@code \d \w \s}, {@code \t \n \r \f}, escaped punctuation; outside a class also {@code \b \B}. */
        private Starts escape(boolean inClass) {
            if (at + 1 >= re.length()) {
                return null;
            }
            char c = re.charAt(at + 1);
            at += 2;
            boolean[] set = new boolean[128];
            switch (c) {
                case 'd' -> range(set, '0', '9');
                case 'w' -> {
                    range(set, 'a', 'z');
                    range(set, 'A', 'Z');
                    range(set, '0', '9');
                    set['_'] = true;
                }
                case 's' -> {
                    for (char k : new char[] {' ', '\t', '\n', '\u000B', '\f', '\r'}) {
                        set[k] = true;
                    }
                }
                case 't' -> set['\t'] = true;
                case 'n' -> set['\n'] = true;
                case 'r' -> set['\r'] = true;
                case 'f' -> set['\f'] = true;
                case 'b', 'B' -> {
                    return inClass ? null : Starts.zeroWidth();
                }
                default -> {
                    if (c >= 128 || Character.isLetterOrDigit(c)) {
                        return null;                        // other escapes and back references
                    }
                    set[c] = true;                          // escaped punctuation stands for itself
                }
            }
            return Starts.of(set);
        }

        private static void range(boolean[] set, char from, char to) {
            for (char k = from; k <= to; k++) {
                set[k] = true;
            }
        }
    }

    private static boolean[] single(char c) {
        boolean[] set = new boolean[128];
        set[c] = true;
        return set;
    }
}
