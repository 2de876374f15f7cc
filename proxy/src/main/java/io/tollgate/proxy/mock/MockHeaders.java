package io.tollgate.proxy.mock;

/**
 * Request headers that steer the {@link MockProvider} per request, so a test that talks to it
 * through the gateway can choose the upstream's behaviour without reconfiguring it.
 * A header with an unparsable value is answered 400 {@code invalid_mock_header}.
 */
public final class MockHeaders {

    /** Completion tokens to answer with, instead of {@link MockProvider.Options#completionTokens()}. */
    public static final String TOKENS = "x-mock-tokens";
    /** Milliseconds between two streamed chunks. */
    public static final String CHUNK_DELAY_MS = "x-mock-chunk-delay-ms";
    /**
     * Milliseconds between a streamed answer's head and its first chunk, as a provider sends its
     * head at once and the first token after the prompt is read (default 0: together).
     */
    public static final String FIRST_CHUNK_DELAY_MS = "x-mock-first-chunk-delay-ms";
    /** Milliseconds before the response head (or before the behaviour below takes effect). */
    public static final String FIRST_BYTE_DELAY_MS = "x-mock-first-byte-delay-ms";
    /** Answer this status (400..599) with an OpenAI-style error body instead of a completion. */
    public static final String STATUS = "x-mock-status";
    /** Report this many prompt tokens in the usage, whatever the request was (negative allowed). */
    public static final String REPORTED_PROMPT_TOKENS = "x-mock-reported-prompt-tokens";
    /** One of the {@code BEHAVIOR_*} values. */
    public static final String BEHAVIOR = "x-mock-behavior";
    /** Images to answer with, whatever the request's {@code n} asked (fewer, or more). */
    public static final String IMAGES = "x-mock-images";
    /** Make every {@code b64_json} image this many base64 characters (a big answer), instead of a 1×1 PNG. */
    public static final String IMAGE_BYTES = "x-mock-image-bytes";
    /** On a video submit: milliseconds the task stays {@code queued} (default 500). */
    public static final String TASK_QUEUED_MS = "x-mock-task-queued-ms";
    /** On a video submit: milliseconds it then stays {@code running} (default 1500). */
    public static final String TASK_RUNNING_MS = "x-mock-task-running-ms";
    /** On a video submit: how the task ends, {@code succeeded} (the default) or {@code failed}. */
    public static final String TASK_OUTCOME = "x-mock-task-outcome";
    /** On a video submit: the duration, in seconds, the finished task reports (default: what was asked). */
    public static final String VIDEO_SECONDS = "x-mock-video-seconds";

    /** Close the connection without writing a byte. */
    public static final String BEHAVIOR_CLOSE_BEFORE_HEAD = "close-before-head";
    /** Write bytes that are not HTTP, then close. */
    public static final String BEHAVIOR_GARBAGE = "garbage";
    /** Never answer; keep the connection open until the client or {@link MockProvider#close()} ends it. */
    public static final String BEHAVIOR_HANG = "hang";
    /**
     * A stream closes after half of its content chunks, without {@code [DONE]}; a non-streamed
     * answer closes after its head and half of its body.
     */
    public static final String BEHAVIOR_CLOSE_MID_STREAM = "close-mid-stream";
    /**
     * A stream asked for usage ({@code stream_options.include_usage}) carries {@code "usage":null}
     * in its chunks but never sends the usage chunk; a non-streamed answer has no {@code usage}.
     */
    public static final String BEHAVIOR_USAGE_MISSING = "usage-missing";

    private MockHeaders() {
    }
}
