package io.tollgate.proxy.chat;

import io.tollgate.proxy.http.ApiError;

/** A request body the gateway refuses, with the SPEC error it is answered with. */
public final class InvalidRequestException extends Exception {

    private final ApiError error;

    public InvalidRequestException(ApiError error, String message) {
        super(message, null, false, false);
        this.error = error;
    }

    public ApiError error() {
        return error;
    }
}
