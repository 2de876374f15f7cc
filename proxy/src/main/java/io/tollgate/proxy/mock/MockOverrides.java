package io.tollgate.proxy.mock;

import io.netty.handler.codec.http.HttpHeaders;

import java.util.Locale;

/** The per-request {@link MockHeaders}, resolved against the provider's options. */
record MockOverrides(int tokens, long chunkDelayMs, long firstChunkDelayMs, long firstByteDelayMs, int status,
                     Behavior behavior, Long reportedPromptTokens) {

    enum Behavior {
        NORMAL(null),
        CLOSE_BEFORE_HEAD(MockHeaders.BEHAVIOR_CLOSE_BEFORE_HEAD),
        GARBAGE(MockHeaders.BEHAVIOR_GARBAGE),
        HANG(MockHeaders.BEHAVIOR_HANG),
        CLOSE_MID_STREAM(MockHeaders.BEHAVIOR_CLOSE_MID_STREAM),
        USAGE_MISSING(MockHeaders.BEHAVIOR_USAGE_MISSING);

        private final String headerValue;

        Behavior(String headerValue) {
            this.headerValue = headerValue;
        }
    }

    static MockOverrides parse(HttpHeaders headers, MockProvider.Options options) throws MockException {
        int tokens = (int) number(headers, MockHeaders.TOKENS, options.completionTokens(), Integer.MAX_VALUE);
        long chunkDelay = number(headers, MockHeaders.CHUNK_DELAY_MS, options.chunkDelay().toMillis(), Long.MAX_VALUE);
        long firstChunkDelay = number(headers, MockHeaders.FIRST_CHUNK_DELAY_MS, 0, Long.MAX_VALUE);
        long firstByteDelay = number(headers, MockHeaders.FIRST_BYTE_DELAY_MS, options.firstByteDelay().toMillis(),
                Long.MAX_VALUE);
        int status = (int) number(headers, MockHeaders.STATUS, 0, 599);
        if (status != 0 && status < 400) {
            throw invalid(MockHeaders.STATUS, "a status from 400 to 599");
        }
        return new MockOverrides(tokens, chunkDelay, firstChunkDelay, firstByteDelay, status, behavior(headers),
                reported(headers));
    }

    /** Any long, negative included: a misbehaving provider's usage is what it is meant to play. */
    private static Long reported(HttpHeaders headers) throws MockException {
        String value = headers.get(MockHeaders.REPORTED_PROMPT_TOKENS);
        if (value == null) {
            return null;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw invalid(MockHeaders.REPORTED_PROMPT_TOKENS, "a whole number");
        }
    }

    /** A mock header's whole number from 0 to {@code max}, {@code fallback} when absent; anything else is a 400. */
    static long number(HttpHeaders headers, String name, long fallback, long max) throws MockException {
        String value = headers.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            long n = Long.parseLong(value.trim());
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw invalid(name, "a number from 0 to " + max);
    }

    private static Behavior behavior(HttpHeaders headers) throws MockException {
        String value = headers.get(MockHeaders.BEHAVIOR);
        if (value == null) {
            return Behavior.NORMAL;
        }
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        for (Behavior b : Behavior.values()) {
            if (wanted.equals(b.headerValue)) {
                return b;
            }
        }
        throw invalid(MockHeaders.BEHAVIOR, "one of close-before-head, garbage, hang, close-mid-stream, usage-missing");
    }

    static MockException invalid(String header, String expected) {
        return new MockException(OpenAiError.invalidRequest("invalid_mock_header", null,
                "Invalid " + header + " header: expected " + expected + "."));
    }
}
