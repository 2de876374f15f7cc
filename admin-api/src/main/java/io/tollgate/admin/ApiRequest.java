package io.tollgate.admin;

import java.util.List;
import java.util.Map;

/**
 * One admin request after routing: decoded path parameters, query parameters and the raw body.
 * The body is parsed only when a controller asks for it.
 */
record ApiRequest(String requestId, String method, String path, Map<String, String> pathParams,
                  Map<String, List<String>> query, byte[] body, Json json) {

    String pathParam(String name) {
        String value = pathParams.get(name);
        if (value == null) {
            throw new IllegalStateException("route has no path parameter " + name);
        }
        return value;
    }

    /** The last value of a query parameter, or null. */
    String queryParam(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.getLast();
    }

    /** A list {@code limit}: {@code defaultLimit} when absent, else an integer in 1..max. */
    int limit(int defaultLimit, int max) {
        String raw = queryParam("limit");
        if (raw == null || raw.isEmpty()) {
            return defaultLimit;
        }
        try {
            int limit = Integer.parseInt(raw);
            if (limit >= 1 && limit <= max) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.invalidRequest("'limit' must be an integer between 1 and " + max);
    }

    JsonBody jsonBody() {
        return JsonBody.of(json.parse(body));
    }
}
