package io.tollgate.proxy.chat;

/** Token counts an upstream reported for one answer. */
public record Usage(long inputTokens, long outputTokens) {
}
