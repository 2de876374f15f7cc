package io.tollgate.schema;

import java.time.Instant;

/** A provider endpoint. {@code baseUrl} is the API root with its version path, e.g. https://api.openai.com/v1. */
public record Upstream(
        String id,
        String name,
        String provider,
        String baseUrl,
        String apiKey,
        int weight,
        int priority,
        boolean enabled,
        Instant createdAt) {

    /** The last four characters of the upstream's key: all the admin API ever shows of it. */
    public String apiKeyLast4() {
        return apiKey.length() <= 4 ? apiKey : apiKey.substring(apiKey.length() - 4);
    }
}
