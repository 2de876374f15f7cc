package io.tollgate.admin;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.List;

/** What a controller answers: a status and a body to serialise (null for 204). */
record ApiResponse(HttpResponseStatus status, Object body) {

    static ApiResponse ok(Object body) {
        return new ApiResponse(HttpResponseStatus.OK, body);
    }

    static ApiResponse created(Object body) {
        return new ApiResponse(HttpResponseStatus.CREATED, body);
    }

    static ApiResponse noContent() {
        return new ApiResponse(HttpResponseStatus.NO_CONTENT, null);
    }

    static ApiResponse list(List<?> data) {
        return ok(new ListBody(data));
    }

    /** Every list answers {@code {"object":"list","data":[…]}}. */
    record ListBody(String object, List<?> data) {
        ListBody(List<?> data) {
            this("list", data);
        }
    }

    /** {@code {"error":{"message","type","code"}}}. */
    record ErrorBody(Error error) {
        record Error(String message, String type, String code) {
        }

        static ErrorBody of(ApiException e) {
            return new ErrorBody(new Error(e.getMessage(), e.type(), e.code()));
        }
    }
}
