package io.tollgate.schema;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The jsonb form of {@link RateLimits}: {@code {"general":..,"image_submit":..,"image_poll":..}}. */
final class RateLimitsJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private RateLimitsJson() {
    }

    /** SQL NULL when no override is set, so "no overrides" has one representation. */
    static String write(RateLimits limits) {
        if (limits == null || limits.equals(RateLimits.NONE)) {
            return null;
        }
        ObjectNode node = JSON.createObjectNode();
        putIfSet(node, "general", limits.general());
        putIfSet(node, "image_submit", limits.imageSubmit());
        putIfSet(node, "image_poll", limits.imagePoll());
        return node.toString();
    }

    static RateLimits read(String json) {
        if (json == null) {
            return RateLimits.NONE;
        }
        try {
            JsonNode node = JSON.readTree(json);
            return new RateLimits(intOrNull(node, "general"), intOrNull(node, "image_submit"), intOrNull(node, "image_poll"));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("rate_limits column holds invalid JSON", e);
        }
    }

    private static void putIfSet(ObjectNode node, String field, Integer value) {
        if (value != null) {
            node.put(field, value);
        }
    }

    private static Integer intOrNull(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.intValue();
    }
}
