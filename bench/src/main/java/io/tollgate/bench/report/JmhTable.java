package io.tollgate.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/** JMH's JSON results (`-rf json`) as a markdown table: time per operation and bytes allocated per operation. */
public final class JmhTable {

    private JmhTable() {
    }

    public static String render(Path json, String textFile) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        Markdown t = new Markdown("benchmark", "parameters", "score", "error (99.9%)", "unit", "allocated B/op");
        for (JsonNode b : root) {
            String name = b.path("benchmark").asText();
            name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
            StringBuilder params = new StringBuilder();
            Iterator<Map.Entry<String, JsonNode>> it = b.path("params").fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> p = it.next();
                params.append(params.isEmpty() ? "" : ", ").append(p.getKey()).append('=').append(p.getValue().asText());
            }
            JsonNode primary = b.path("primaryMetric");
            JsonNode alloc = b.path("secondaryMetrics").path("gc.alloc.rate.norm");
            t.row(name, params.isEmpty() ? "—" : params.toString(), num(primary.path("score").asDouble()),
                    "± " + num(primary.path("scoreError").asDouble()), primary.path("scoreUnit").asText(),
                    alloc.isMissingNode() ? "—" : String.format(Locale.ROOT, "%.0f", alloc.path("score").asDouble()));
        }
        return "Measured with `bench/jmh.sh` (JMH, `-prof gc`); the whole output is in [" + textFile + "](" + textFile + ").\n\n"
                + t.render();
    }

    private static String num(double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        return String.format(Locale.ROOT, v >= 100 ? "%,.0f" : v >= 1 ? "%.2f" : "%.4f", v);
    }
}
