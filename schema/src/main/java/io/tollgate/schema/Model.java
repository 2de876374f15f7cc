package io.tollgate.schema;

import java.time.Instant;
import java.util.List;

/** A model the gateway sells, with its routes in order of preference. */
public record Model(
        String id,
        String displayName,
        String category,
        List<String> capabilities,
        List<Route> routes,
        Pricing pricing,
        Integer maxOutputTokens,
        boolean enabled,
        boolean isPublic,
        List<String> videoResolutions,
        Instant createdAt,
        Instant updatedAt) {

    /** The categories (SPEC: {@code "text" | "image" | "video"}), each served by its own endpoints. */
    public static final String TEXT = "text";
    public static final String IMAGE = "image";
    public static final String VIDEO = "video";
}
