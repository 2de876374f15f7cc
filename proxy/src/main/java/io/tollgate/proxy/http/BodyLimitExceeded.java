package io.tollgate.proxy.http;

/** Fired by {@link RequestDecoder} once a request body is known to be over the limit. */
public record BodyLimitExceeded(long limit) {
}
