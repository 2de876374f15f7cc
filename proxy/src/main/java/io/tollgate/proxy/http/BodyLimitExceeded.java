package io.tollgate.proxy.http;

/** Fired by {@link RequestBodyLimitHandler} once a request body is known to be over the limit. */
public record BodyLimitExceeded(long limit) {
}
