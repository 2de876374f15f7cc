package io.tollgate.admin;

import io.netty.handler.codec.http.HttpMethod;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Maps a method and a path to a controller method. Patterns are literal segments,
 * {@code {name}} for one segment and a trailing {@code {name+}} for the rest of the path
 * (model ids such as {@code openai/gpt-5}). A path that matches with another method is a 405.
 */
final class Router {

    @FunctionalInterface
    interface Handler {
        ApiResponse handle(ApiRequest request);
    }

    record Match(Handler handler, Map<String, String> params) {
    }

    private record Route(HttpMethod method, List<String> pattern, Handler handler) {
    }

    private final List<Route> routes = new ArrayList<>();

    Router get(String pattern, Handler handler) {
        return add(HttpMethod.GET, pattern, handler);
    }

    Router post(String pattern, Handler handler) {
        return add(HttpMethod.POST, pattern, handler);
    }

    Router put(String pattern, Handler handler) {
        return add(HttpMethod.PUT, pattern, handler);
    }

    Router patch(String pattern, Handler handler) {
        return add(HttpMethod.PATCH, pattern, handler);
    }

    Router delete(String pattern, Handler handler) {
        return add(HttpMethod.DELETE, pattern, handler);
    }

    Router add(HttpMethod method, String pattern, Handler handler) {
        List<String> segments = split(pattern);
        for (int i = 0; i < segments.size() - 1; i++) {
            if (segments.get(i).endsWith("+}")) {
                throw new IllegalArgumentException("a {rest+} parameter must come last: " + pattern);
            }
        }
        routes.add(new Route(method, segments, handler));
        return this;
    }

    /**
     * @param rawPath the path as sent, still percent-encoded
     * @throws ApiException 404 when no route has this path, 405 when none has it with this method
     */
    Match route(HttpMethod method, String rawPath) {
        List<String> segments = decode(split(rawPath));
        Set<String> allowed = new TreeSet<>();
        for (Route route : routes) {
            Map<String, String> params = match(route.pattern(), segments);
            if (params == null) {
                continue;
            }
            if (route.method().equals(method)) {
                return new Match(route.handler(), params);
            }
            allowed.add(route.method().name());
        }
        if (allowed.isEmpty()) {
            throw ApiException.notFound("no such endpoint: " + rawPath);
        }
        throw ApiException.methodNotAllowed(method.name(), rawPath, String.join(", ", allowed));
    }

    private static Map<String, String> match(List<String> pattern, List<String> segments) {
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < pattern.size(); i++) {
            String p = pattern.get(i);
            if (p.startsWith("{") && p.endsWith("+}")) {
                List<String> rest = segments.subList(Math.min(i, segments.size()), segments.size());
                if (rest.isEmpty() || rest.stream().anyMatch(String::isEmpty)) {
                    return null;
                }
                params.put(p.substring(1, p.length() - 2), String.join("/", rest));
                return params;
            }
            if (i >= segments.size()) {
                return null;
            }
            String s = segments.get(i);
            if (p.startsWith("{") && p.endsWith("}")) {
                if (s.isEmpty()) {
                    return null;
                }
                params.put(p.substring(1, p.length() - 1), s);
            } else if (!p.equals(s)) {
                return null;
            }
        }
        return pattern.size() == segments.size() ? params : null;
    }

    /** "/a/b/" → [a, b, ""]: a trailing slash is a segment of its own and matches nothing. */
    private static List<String> split(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        return List.of(p.split("/", -1));
    }

    private static List<String> decode(List<String> raw) {
        List<String> decoded = new ArrayList<>(raw.size());
        for (String segment : raw) {
            try {
                // A '+' in a path is a plus, not a space.
                decoded.add(URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw ApiException.invalidRequest("malformed percent-encoding in the path");
            }
        }
        return decoded;
    }
}
