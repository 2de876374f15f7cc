package io.tollgate.admin;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Typed, validated reads of one JSON object. Every refusal is a 400 {@code invalid_request}
 * whose message names the field by its full path ({@code routes[1].upstream_id}).
 * Absent and {@code null} read alike as "not given"; {@link #forbidNull} tells them apart where it matters.
 */
final class JsonBody {

    /** numeric(38, 12): at most 12 decimal places and 26 integer digits. */
    private static final int MAX_SCALE = 12;
    private static final int MAX_INTEGER_DIGITS = 26;

    private final JsonNode node;
    private final String path;

    private JsonBody(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    static JsonBody of(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw ApiException.invalidRequest("request body must be a JSON object");
        }
        return new JsonBody(root, "");
    }

    /** True when the field is present, even as null. */
    boolean has(String field) {
        return node.has(field);
    }

    /** Refuses an explicit null for fields that can be left out but never cleared. */
    JsonBody forbidNull(String... fields) {
        for (String field : fields) {
            if (node.has(field) && node.get(field).isNull()) {
                throw invalid(field, "must not be null");
            }
        }
        return this;
    }

    String requiredText(String field) {
        String value = text(field);
        if (value == null) {
            throw invalid(field, "is required");
        }
        if (value.isBlank()) {
            throw invalid(field, "must not be empty");
        }
        return value;
    }

    /** A string that is not blank, or null when not given. */
    String nonBlankText(String field) {
        String value = text(field);
        if (value != null && value.isBlank()) {
            throw invalid(field, "must not be empty");
        }
        return value;
    }

    /** {@code value} when it has at most {@code max} characters. */
    String maxLength(String field, String value, int max) {
        if (value != null && value.length() > max) {
            throw invalid(field, "must be at most " + max + " characters");
        }
        return value;
    }

    String text(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw invalid(field, "must be a string");
        }
        return v.textValue();
    }

    /** A string out of {@code allowed}, or null when not given. */
    String oneOf(String field, Collection<String> allowed) {
        String value = text(field);
        if (value != null && !allowed.contains(value)) {
            throw invalid(field, "must be one of " + String.join(", ", allowed.stream().sorted().toList()));
        }
        return value;
    }

    String requiredOneOf(String field, Collection<String> allowed) {
        String value = oneOf(field, allowed);
        if (value == null) {
            throw invalid(field, "is required");
        }
        return value;
    }

    /** A number that fits the credit columns exactly, or null when not given. */
    BigDecimal decimal(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw invalid(field, "must be a number");
        }
        BigDecimal d = v.decimalValue().stripTrailingZeros();
        if (d.scale() > MAX_SCALE) {
            throw invalid(field, "must have at most " + MAX_SCALE + " decimal places");
        }
        if (d.precision() - d.scale() > MAX_INTEGER_DIGITS) {
            throw invalid(field, "is too large");
        }
        return d.scale() < 0 ? d.setScale(0) : d;
    }

    BigDecimal nonNegativeDecimal(String field) {
        BigDecimal d = decimal(field);
        if (d != null && d.signum() < 0) {
            throw invalid(field, "must not be negative");
        }
        return d;
    }

    Integer integer(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw invalid(field, "must be an integer");
        }
        return v.intValue();
    }

    Integer positiveInteger(String field) {
        Integer i = integer(field);
        if (i != null && i <= 0) {
            throw invalid(field, "must be a positive integer");
        }
        return i;
    }

    Integer nonNegativeInteger(String field) {
        Integer i = integer(field);
        if (i != null && i < 0) {
            throw invalid(field, "must not be negative");
        }
        return i;
    }

    Boolean bool(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw invalid(field, "must be a boolean");
        }
        return v.booleanValue();
    }

    /** An array of non-empty strings, or null when not given. */
    List<String> stringList(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw invalid(field, "must be an array of strings");
        }
        List<String> values = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            JsonNode item = v.get(i);
            if (!item.isTextual() || item.textValue().isBlank()) {
                throw invalid(field + "[" + i + "]", "must be a non-empty string");
            }
            values.add(item.textValue());
        }
        return values;
    }

    /** An ISO-8601 timestamp with an offset ({@code 2030-01-01T00:00:00Z}), or null when not given. */
    Instant instant(String field) {
        String text = text(field);
        if (text == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            throw invalid(field, "must be an ISO-8601 timestamp such as 2030-01-01T00:00:00Z");
        }
    }

    /** A nested object, or null when not given. */
    JsonBody object(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw invalid(field, "must be an object");
        }
        return new JsonBody(v, path + field + ".");
    }

    JsonBody requiredObject(String field) {
        JsonBody o = object(field);
        if (o == null) {
            throw invalid(field, "is required");
        }
        return o;
    }

    /** An array of objects, or null when not given. */
    List<JsonBody> objectList(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw invalid(field, "must be an array of objects");
        }
        List<JsonBody> items = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            JsonNode item = v.get(i);
            String itemPath = field + "[" + i + "]";
            if (!item.isObject()) {
                throw invalid(itemPath, "must be an object");
            }
            items.add(new JsonBody(item, path + itemPath + "."));
        }
        return items;
    }

    List<JsonBody> requiredObjectList(String field) {
        List<JsonBody> items = objectList(field);
        if (items == null) {
            throw invalid(field, "is required");
        }
        return items;
    }

    /** A 400 naming this field by its full path. */
    ApiException invalid(String field, String problem) {
        return ApiException.invalidRequest("'" + path + field + "' " + problem);
    }

    private JsonNode value(String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }
}
