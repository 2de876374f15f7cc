package io.tollgate.proxy.mock;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpResponseStatus;

/** An error answered the way OpenAI does: {@code {"error":{"message","type","param","code"}}}. */
record OpenAiError(HttpResponseStatus status, String type, String code, String param, String message) {

    static final String INVALID_REQUEST = "invalid_request_error";

    static OpenAiError invalidRequest(String code, String param, String message) {
        return new OpenAiError(HttpResponseStatus.BAD_REQUEST, INVALID_REQUEST, code, param, message);
    }

    static OpenAiError invalidApiKey(String message) {
        return new OpenAiError(HttpResponseStatus.UNAUTHORIZED, INVALID_REQUEST, "invalid_api_key", null, message);
    }

    static OpenAiError unknownUrl(String method, String path) {
        return new OpenAiError(HttpResponseStatus.NOT_FOUND, INVALID_REQUEST, "unknown_url", null,
                "Invalid URL (" + method + " " + path + ")");
    }

    /** The error a real provider would send with this status, for {@link MockHeaders#STATUS}. */
    static OpenAiError forStatus(int status) {
        String message = "The mock provider answered " + status + " because " + MockHeaders.STATUS + " asked it to.";
        String type = status >= 500 ? "server_error" : INVALID_REQUEST;
        String code = switch (status) {
            case 401 -> "invalid_api_key";
            case 403 -> "permission_denied";
            case 404 -> "model_not_found";
            case 408 -> "request_timeout";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_exceeded";
            case 502 -> "bad_gateway";
            case 503 -> "service_unavailable";
            case 504 -> "timeout";
            default -> status >= 500 ? "server_error" : "invalid_request";
        };
        if (status == 429) {
            type = "requests"; // what OpenAI puts in a rate-limit error
        }
        return new OpenAiError(HttpResponseStatus.valueOf(status), type, code, null, message);
    }

    ByteBuf body(ByteBufAllocator alloc) {
        StringBuilder json = new StringBuilder(128 + message.length())
                .append("{\"error\":{\"message\":");
        quoted(json, message).append(",\"type\":");
        quoted(json, type).append(",\"param\":");
        quoted(json, param).append(",\"code\":");
        quoted(json, code).append("}}");
        return ByteBufUtil.writeUtf8(alloc, json);
    }

    private static StringBuilder quoted(StringBuilder json, String value) {
        if (value == null) {
            return json.append("null");
        }
        json.append('"');
        JsonStringEncoder.getInstance().quoteAsString(value, json);
        return json.append('"');
    }
}
