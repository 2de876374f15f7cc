package io.tollgate.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Map;

/**
 * A request the admin API refuses, carrying everything the error body needs:
 * {@code {"error":{"message","type","code"}}}. Thrown from anywhere below the router.
 */
final class ApiException extends RuntimeException {

    static final String INVALID_REQUEST_ERROR = "invalid_request_error";
    static final String AUTHENTICATION_ERROR = "authentication_error";
    static final String API_ERROR = "api_error";

    private final HttpResponseStatus status;
    private final String type;
    private final String code;
    private final Map<String, String> headers;

    ApiException(HttpResponseStatus status, String type, String code, String message) {
        this(status, type, code, message, Map.of());
    }

    ApiException(HttpResponseStatus status, String type, String code, String message, Map<String, String> headers) {
        // No stack trace: these are answers, not failures.
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    static ApiException invalidRequest(String message) {
        return new ApiException(HttpResponseStatus.BAD_REQUEST, INVALID_REQUEST_ERROR, "invalid_request", message);
    }

    static ApiException invalidAdminToken() {
        return new ApiException(HttpResponseStatus.UNAUTHORIZED, AUTHENTICATION_ERROR, "invalid_admin_token",
                "missing or invalid admin token: send Authorization: Bearer <admin token>");
    }

    static ApiException notFound(String message) {
        return new ApiException(HttpResponseStatus.NOT_FOUND, INVALID_REQUEST_ERROR, "not_found", message);
    }

    static ApiException methodNotAllowed(String method, String path, String allow) {
        return new ApiException(HttpResponseStatus.METHOD_NOT_ALLOWED, INVALID_REQUEST_ERROR, "method_not_allowed",
                method + " is not allowed on " + path + "; allowed: " + allow, Map.of("Allow", allow));
    }

    static ApiException conflict(String code, String message) {
        return new ApiException(HttpResponseStatus.CONFLICT, INVALID_REQUEST_ERROR, code, message);
    }

    static ApiException requestTooLarge(int maxBytes) {
        return new ApiException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, INVALID_REQUEST_ERROR, "request_too_large",
                "request body is larger than " + maxBytes + " bytes");
    }

    static ApiException databaseUnavailable() {
        return new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, API_ERROR, "database_unavailable",
                "the database is not reachable; retry later");
    }

    static ApiException internal() {
        return new ApiException(HttpResponseStatus.INTERNAL_SERVER_ERROR, API_ERROR, "internal_error",
                "internal error; the server log has details under this request's X-Request-Id");
    }

    HttpResponseStatus status() {
        return status;
    }

    String type() {
        return type;
    }

    String code() {
        return code;
    }

    /** Extra response headers, such as {@code Allow} on a 405. */
    Map<String, String> headers() {
        return headers;
    }
}
