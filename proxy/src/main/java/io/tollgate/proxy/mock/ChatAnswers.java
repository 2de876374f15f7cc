package io.tollgate.proxy.mock;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes chat completions and their SSE chunks from pre-encoded pieces: per answer only the id,
 * timestamp, model and counts are encoded, so the mock stays cheap as a benchmark upstream.
 */
final class ChatAnswers {

    /** The answer's text, one word per token, repeated as needed. */
    private static final String[] WORDS = {
            "Hello", "from", "the", "Tollgate", "mock", "provider.", "Every", "word", "here",
            "is", "one", "token,", "counted", "and", "billed.", "Again:"};

    private static final byte[][] TOKENS = new byte[WORDS.length][];
    private static final byte[] FIRST_CHUNK_CHOICE = ascii("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\""
            + WORDS[0] + "\"},\"finish_reason\":");
    private static final byte[][] NEXT_CHUNK_CHOICE = new byte[WORDS.length][];
    private static final byte[] EMPTY_CHUNK_CHOICE =
            ascii("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":");

    static {
        for (int i = 0; i < WORDS.length; i++) {
            TOKENS[i] = ascii(" " + WORDS[i]);
            NEXT_CHUNK_CHOICE[i] = ascii("{\"index\":0,\"delta\":{\"content\":\" " + WORDS[i] + "\"},\"finish_reason\":");
        }
    }

    private static final byte[] DATA = ascii("data: ");
    private static final byte[] ID = ascii("{\"id\":\"");
    private static final byte[] CHUNK_OBJECT = ascii("\",\"object\":\"chat.completion.chunk\",\"created\":");
    private static final byte[] COMPLETION_OBJECT = ascii("\",\"object\":\"chat.completion\",\"created\":");
    private static final byte[] MODEL = ascii(",\"model\":\"");
    private static final byte[] CHOICES = ascii("\",\"choices\":[");
    private static final byte[] NOT_FINISHED = ascii("null}]");
    private static final byte[] FINISHED = ascii("\"stop\"}]");
    private static final byte[] USAGE_NULL = ascii(",\"usage\":null");
    private static final byte[] EVENT_END = ascii("}\n\n");
    private static final byte[] USAGE = ascii("\"usage\":{\"prompt_tokens\":");
    private static final byte[] COMPLETION_TOKENS = ascii(",\"completion_tokens\":");
    private static final byte[] TOTAL_TOKENS = ascii(",\"total_tokens\":");
    private static final byte[] MESSAGE = ascii("{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"");
    private static final byte[] MESSAGE_END = ascii("\"},\"finish_reason\":\"stop\"}]");
    private static final byte[] DONE = ascii("data: [DONE]\n\n");

    private final AtomicLong ids = new AtomicLong();

    /** A new answer with the next {@code chatcmpl-<n>} id. */
    Answer open(String model, long promptTokens, int completionTokens) {
        String id = "chatcmpl-" + ids.incrementAndGet();
        byte[] quotedModel = JsonStringEncoder.getInstance().quoteAsUTF8(model);
        return new Answer(id, System.currentTimeMillis() / 1000, quotedModel, promptTokens, completionTokens);
    }

    static final class Answer {

        private final String id;
        private final long created;
        private final byte[] model;
        private final long promptTokens;
        private final int completionTokens;

        private Answer(String id, long created, byte[] model, long promptTokens, int completionTokens) {
            this.id = id;
            this.created = created;
            this.model = model;
            this.promptTokens = promptTokens;
            this.completionTokens = completionTokens;
        }

        String id() {
            return id;
        }

        MockProvider.Usage usage() {
            return new MockProvider.Usage(id, promptTokens, completionTokens);
        }

        /** Content chunks of the stream: one per token, or one empty chunk for an empty answer. */
        int chunkCount() {
            return Math.max(1, completionTokens);
        }

        /** The whole non-streamed {@code chat.completion}, with or without its usage. */
        ByteBuf completion(ByteBufAllocator alloc, boolean withUsage) {
            ByteBuf buf = alloc.buffer(256 + model.length + completionTokens * 12);
            head(buf, COMPLETION_OBJECT);
            buf.writeBytes(MESSAGE);
            for (int i = 0; i < completionTokens; i++) {
                byte[] token = TOKENS[i % TOKENS.length];
                // The first word has no leading space.
                buf.writeBytes(token, i == 0 ? 1 : 0, i == 0 ? token.length - 1 : token.length);
            }
            buf.writeBytes(MESSAGE_END);
            if (withUsage) {
                usage(buf.writeByte(','));
            }
            return buf.writeByte('}');
        }

        /** SSE event {@code index} of {@link #chunkCount()}: the first names the role, the last finishes. */
        ByteBuf chunk(ByteBufAllocator alloc, int index, boolean usageNull) {
            ByteBuf buf = alloc.buffer(192 + model.length);
            buf.writeBytes(DATA);
            head(buf, CHUNK_OBJECT);
            if (completionTokens == 0) {
                buf.writeBytes(EMPTY_CHUNK_CHOICE);
            } else if (index == 0) {
                buf.writeBytes(FIRST_CHUNK_CHOICE);
            } else {
                buf.writeBytes(NEXT_CHUNK_CHOICE[index % NEXT_CHUNK_CHOICE.length]);
            }
            buf.writeBytes(index == chunkCount() - 1 ? FINISHED : NOT_FINISHED);
            if (usageNull) {
                buf.writeBytes(USAGE_NULL);
            }
            return buf.writeBytes(EVENT_END);
        }

        /** The extra SSE event of {@code include_usage}: no choices, the usage. */
        ByteBuf usageChunk(ByteBufAllocator alloc) {
            ByteBuf buf = alloc.buffer(256 + model.length);
            buf.writeBytes(DATA);
            head(buf, CHUNK_OBJECT);
            usage(buf.writeByte(']').writeByte(','));
            return buf.writeBytes(EVENT_END);
        }

        static ByteBuf done(ByteBufAllocator alloc) {
            return alloc.buffer(DONE.length).writeBytes(DONE);
        }

        /** {@code {"id":…,"object":…,"created":…,"model":…,"choices":[} */
        private void head(ByteBuf buf, byte[] object) {
            buf.writeBytes(ID);
            ByteBufUtil.writeAscii(buf, id);
            buf.writeBytes(object);
            ByteBufUtil.writeAscii(buf, Long.toString(created));
            buf.writeBytes(MODEL).writeBytes(model).writeBytes(CHOICES);
        }

        /** {@code "usage":{"prompt_tokens":…,"completion_tokens":…,"total_tokens":…}} */
        private void usage(ByteBuf buf) {
            buf.writeBytes(USAGE);
            ByteBufUtil.writeAscii(buf, Long.toString(promptTokens));
            buf.writeBytes(COMPLETION_TOKENS);
            ByteBufUtil.writeAscii(buf, Long.toString(completionTokens));
            buf.writeBytes(TOTAL_TOKENS);
            ByteBufUtil.writeAscii(buf, Long.toString(promptTokens + completionTokens));
            buf.writeByte('}');
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
