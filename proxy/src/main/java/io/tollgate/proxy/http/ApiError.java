package io.tollgate.proxy.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/** The error codes of SPEC.md section 2, each with its HTTP status and OpenAI-style type. */
public enum ApiError {
    INVALID_REQUEST(400, "invalid_request", "invalid_request_error"),
    MODEL_REQUIRED(400, "model_required", "invalid_request_error"),
    MESSAGES_REQUIRED(400, "messages_required", "invalid_request_error"),
    PROMPT_REQUIRED(400, "prompt_required", "invalid_request_error"),
    TOO_MANY_MESSAGES(400, "too_many_messages", "invalid_request_error"),
    MESSAGE_TOO_LONG(400, "message_too_long", "invalid_request_error"),
    UNSUPPORTED_VIDEO_RESOLUTION(400, "unsupported_video_resolution", "invalid_request_error"),
    INVALID_API_KEY(401, "invalid_api_key", "authentication_error"),
    API_KEY_CREDIT_LIMIT_EXCEEDED(402, "api_key_credit_limit_exceeded", "insufficient_quota"),
    INSUFFICIENT_CREDITS(402, "insufficient_credits", "insufficient_quota"),
    API_KEY_PAUSED(403, "api_key_paused", "permission_error"),
    API_KEY_EXPIRED(403, "api_key_expired", "permission_error"),
    ACCOUNT_DISABLED(403, "account_disabled", "permission_error"),
    API_KEY_MODEL_NOT_ALLOWED(403, "api_key_model_not_allowed", "permission_error"),
    CONTENT_FILTER(403, "content_filter", "permission_error"),
    MODEL_NOT_AVAILABLE(404, "model_not_available", "not_found_error"),
    NOT_FOUND(404, "not_found", "not_found_error"),
    METHOD_NOT_ALLOWED(405, "method_not_allowed", "invalid_request_error"),
    REQUEST_TIMEOUT(408, "request_timeout", "invalid_request_error"),
    REQUEST_TOO_LARGE(413, "request_too_large", "invalid_request_error"),
    HEADERS_TOO_LARGE(431, "headers_too_large", "invalid_request_error"),
    RATE_LIMIT_EXCEEDED(429, "rate_limit_exceeded", "rate_limit_error"),
    TOO_MANY_VIDEO_TASKS(429, "too_many_video_tasks", "rate_limit_error"),
    UPSTREAM_ERROR(502, "upstream_error", "api_error"),
    PROVIDER_NOT_CONFIGURED(503, "provider_not_configured", "api_error"),
    SERVICE_UNAVAILABLE(503, "service_unavailable", "api_error"),
    UPSTREAM_TIMEOUT(504, "upstream_timeout", "api_error");

    private final HttpResponseStatus status;
    private final String code;
    private final String type;

    ApiError(int status, String code, String type) {
        this.status = HttpResponseStatus.valueOf(status);
        this.code = code;
        this.type = type;
    }

    public HttpResponseStatus status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String type() {
        return type;
    }
}
