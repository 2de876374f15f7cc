package io.tollgate.proxy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.tollgate.schema.Model;
import io.tollgate.schema.Pricing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.Collection;
import java.util.Comparator;
import java.util.function.Predicate;

/** The body of {@code GET /v1/models}: the enabled public models this key may call. */
final class ModelList {

    private static final JsonFactory JSON = new JsonFactory();

    private ModelList() {
    }

    static ByteBuf render(ByteBufAllocator alloc, Collection<Model> models, Predicate<String> allowed) {
        ByteBuf body = alloc.buffer();
        try (JsonGenerator g = JSON.createGenerator((OutputStream) new ByteBufOutputStream(body))) {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            for (Model m : models.stream().sorted(Comparator.comparing(Model::id)).toList()) {
                if (!m.enabled() || !m.isPublic() || !allowed.test(m.id())) {
                    continue;
                }
                g.writeStartObject();
                g.writeStringField("id", m.id());
                g.writeStringField("object", "model");
                g.writeNumberField("created", m.createdAt() == null ? 0 : m.createdAt().getEpochSecond());
                g.writeStringField("owned_by", "tollgate");
                g.writeStringField("display_name", m.displayName());
                g.writeStringField("category", m.category());
                g.writeArrayFieldStart("capabilities");
                for (String c : m.capabilities()) {
                    g.writeString(c);
                }
                g.writeEndArray();
                Pricing p = m.pricing() == null ? Pricing.FREE : m.pricing();
                writeDecimal(g, "credit_cost", p.perRequest());
                g.writeObjectFieldStart("pricing");
                writeDecimal(g, "per_request", p.perRequest());
                writeDecimal(g, "input_per_1m", p.inputPer1m());
                writeDecimal(g, "output_per_1m", p.outputPer1m());
                writeDecimal(g, "per_image", p.perImage());
                writeDecimal(g, "per_second", p.perSecond());
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            body.release();
            throw new UncheckedIOException(e);
        }
        return body;
    }

    private static void writeDecimal(JsonGenerator g, String name, BigDecimal v) throws IOException {
        g.writeFieldName(name);
        if (v == null) {
            g.writeNull();
        } else {
            // Plain notation: 0.000001, never 1E-6, and no trailing zeros from the database scale.
            g.writeNumber(v.stripTrailingZeros().toPlainString());
        }
    }
}
