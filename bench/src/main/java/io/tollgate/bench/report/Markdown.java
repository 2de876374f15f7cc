package io.tollgate.bench.report;

import java.util.ArrayList;
import java.util.List;

/** A GitHub-flavoured markdown table. */
public final class Markdown {

    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    public Markdown(String... headers) {
        this.headers = List.of(headers);
    }

    public Markdown row(String... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + headers.size() + " columns");
        }
        rows.add(List.of(cells));
        return this;
    }

    public boolean isEmpty() {
        return rows.isEmpty();
    }

    public String render() {
        StringBuilder sb = new StringBuilder();
        line(sb, headers);
        sb.append('|');
        sb.append(" --- |".repeat(headers.size()));
        sb.append('\n');
        for (List<String> r : rows) {
            line(sb, r);
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, List<String> cells) {
        sb.append('|');
        for (String c : cells) {
            sb.append(' ').append(c.replace("|", "\\|").replace("\n", " ")).append(" |");
        }
        sb.append('\n');
    }
}
