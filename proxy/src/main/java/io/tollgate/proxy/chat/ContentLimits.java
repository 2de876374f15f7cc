package io.tollgate.proxy.chat;

import java.util.Objects;

/**
 * What {@link ChatRequestInspector} enforces on a request's messages while the body streams.
 *
 * @param maxMessages     elements of {@code messages}; one more is 400 {@code too_many_messages}
 * @param maxMessageChars Unicode code points of all message text together (see the inspector for
 *                        what counts); one more is 400 {@code message_too_long}
 * @param rules           matched against each message text; a match is 403 {@code content_filter}
 */
public record ContentLimits(int maxMessages, int maxMessageChars, ContentRules rules) {

    public static final int DEFAULT_MAX_MESSAGES = 200;
    public static final int DEFAULT_MAX_MESSAGE_CHARS = 64_000;
    /** SPEC section 2's limits, without content rules. */
    public static final ContentLimits DEFAULTS =
            new ContentLimits(DEFAULT_MAX_MESSAGES, DEFAULT_MAX_MESSAGE_CHARS, ContentRules.NONE);

    public ContentLimits {
        if (maxMessages < 0 || maxMessageChars < 0) {
            throw new IllegalArgumentException("message limits must not be negative: "
                    + maxMessages + " messages, " + maxMessageChars + " characters");
        }
        Objects.requireNonNull(rules, "rules");
    }
}
