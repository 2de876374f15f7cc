package io.tollgate.proxy.chat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteBufferFeeder;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.tollgate.proxy.http.ApiError;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * Reads a chat request body as it streams in, with jackson-core's non-blocking parser, and
 * rewrites it on its way upstream without ever holding more than it must.
 *
 * <p>It learns {@code model}, {@code stream}, {@code stream_options} and {@code max_tokens}
 * from the bytes as they pass. Bytes before {@code model} wait (the route is not known yet);
 * after it they flow as soon as they are parsed. The rewrite is three edits: the model name
 * becomes the route's upstream name, {@code stream_options.include_usage} is forced on so the
 * upstream reports usage, and a streaming request without {@code stream_options} gets one
 * appended. The root object's closing brace is always held back, so the upstream never sees a
 * complete request until the caller releases the tail with {@link #drainTail}.
 *
 * <p>For failover it can keep what it let go ({@link #keepForReplay}), up to a limit, so the
 * body sent to one upstream can be sent again to another with that route's model name
 * ({@link #replay}): the model value's place in the drained bytes is remembered, and only it is
 * swapped.
 *
 * <p>It also enforces the {@link ContentLimits} on {@code messages} token by token: the element
 * that makes one too many, or the text that takes the total past the character limit or matches a
 * content rule, is refused before its bytes may leave. Message text is a string {@code content},
 * and, when {@code content} is an array, each string part and each part's string {@code text}
 * (whatever its {@code type}), of every message, tool messages included; {@code role},
 * {@code name}, {@code tool_calls} and every other member are not text. It is counted in Unicode
 * code points and matched one string at a time.
 */
public final class ChatRequestInspector implements AutoCloseable {

    private static final JsonFactory JSON = new JsonFactory();
    private static final ByteBuf INCLUDE_USAGE_MEMBER = constant(",\"stream_options\":{\"include_usage\":true}");
    private static final ByteBuf CLOSE_BRACE = constant("}");

    /** A replacement of input bytes [start, end); {@code replacement} is null while still unknown. */
    private static final class Edit {
        final long start;
        long end = -1;
        byte[] replacement;

        Edit(long start) {
            this.start = start;
        }

        boolean resolved() {
            return replacement != null;
        }
    }

    private final JsonParser parser;
    private final ByteBufferFeeder feeder;
    private final CompositeByteBuf pending;
    private final ArrayDeque<Edit> edits = new ArrayDeque<>();

    private long emitted;          // absolute offset of pending's reader index
    private long fed;              // bytes fed so far
    private long parsedEnd;        // end of the last complete token: nothing later may leave
    private int depth;
    private boolean rootClosed;
    private long rootEnd = -1;     // offset of the root's closing brace
    private boolean finished;

    private String field;          // the top-level member whose value is being read
    private String model;
    private Edit modelEdit;
    private Boolean stream;
    private Long maxTokens;
    private boolean messagesSeen;

    private final ContentLimits limits;
    private boolean inMessages;    // between the top-level messages array's brackets
    private boolean inParts;       // between a message's content array's brackets
    private String member;         // the member of a message, or of a content part, being read
    private int messages;
    private long messageChars;

    private Edit streamOptionsEdit;
    private ByteArrayOutputStream streamOptionsBytes;
    private JsonGenerator streamOptionsCopy;
    private boolean inIncludeUsage;
    private boolean clientIncludeUsage;

    private long drained;          // bytes let go so far, as drained (with the model of that time)
    private boolean tailDrained;
    private CompositeByteBuf replay; // the drained bytes, while kept for replay and within the limit
    private int replayLimit;
    private long modelAt = -1;     // where the model value starts in the drained bytes
    private int modelDrainedLength; // ... and how long it was there

    /** An inspector with SPEC's default message limits and no content rules. */
    public ChatRequestInspector(ByteBufAllocator alloc) {
        this(alloc, ContentLimits.DEFAULTS);
    }

    public ChatRequestInspector(ByteBufAllocator alloc, ContentLimits limits) {
        this.limits = limits;
        try {
            this.parser = JSON.createNonBlockingByteBufferParser();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        this.feeder = (ByteBufferFeeder) parser.getNonBlockingInputFeeder();
        this.pending = alloc.compositeBuffer(Integer.MAX_VALUE);
    }

    /** Parses the next piece of the body. The inspector keeps its own reference to the bytes. */
    public void feed(ByteBuf chunk) throws InvalidRequestException {
        int n = chunk.readableBytes();
        if (n == 0) {
            return;
        }
        pending.addComponent(true, chunk.retainedSlice());
        try {
            feeder.feedInput(chunk.nioBuffer());
            fed += n;
            readTokens();
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException(ApiError.INVALID_REQUEST,
                    "request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidRequestException(ApiError.INVALID_REQUEST, "request body could not be read");
        }
    }

    /** The body is complete: checks what must be there. */
    public void finish() throws InvalidRequestException {
        finished = true;
        try {
            feeder.endOfInput();
            readTokens();
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException(ApiError.INVALID_REQUEST,
                    "request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidRequestException(ApiError.INVALID_REQUEST, "request body could not be read");
        }
        if (fed == 0) {
            throw new InvalidRequestException(ApiError.INVALID_REQUEST, "request body must be a JSON object");
        }
        if (!rootClosed) {
            throw new InvalidRequestException(ApiError.INVALID_REQUEST,
                    "request body is not valid JSON: unexpected end of input");
        }
        if (model == null || model.isEmpty()) {
            throw new InvalidRequestException(ApiError.MODEL_REQUIRED, "you must provide a model parameter");
        }
        if (!messagesSeen) {
            throw new InvalidRequestException(ApiError.MESSAGES_REQUIRED, "you must provide a messages parameter");
        }
    }

    private void readTokens() throws IOException, InvalidRequestException {
        JsonToken t;
        while ((t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
            long end = parser.currentLocation().getByteOffset();
            onToken(t, end);
            parsedEnd = end;
        }
    }

    private void onToken(JsonToken t, long end) throws IOException, InvalidRequestException {
        if (rootClosed) {
            throw new InvalidRequestException(ApiError.INVALID_REQUEST,
                    "request body is not valid JSON: data after the root object");
        }
        if (depth == 0) {
            if (t != JsonToken.START_OBJECT) {
                throw new InvalidRequestException(ApiError.INVALID_REQUEST, "request body must be a JSON object");
            }
            depth = 1;
            return;
        }
        if (depth == 1) {
            switch (t) {
                case FIELD_NAME -> field = parser.currentName();
                case END_OBJECT -> {
                    depth = 0;
                    rootClosed = true;
                    rootEnd = end - 1;
                }
                default -> onTopLevelValue(t, end);
            }
            return;
        }
        // Inside a nested value of a top-level member.
        if (inMessages) {
            onMessagesToken(t);
        }
        if (streamOptionsCopy != null) {
            copyStreamOptions(t, end);
        }
        if (t.isStructStart()) {
            depth++;
        } else if (t.isStructEnd()) {
            depth--;
        }
    }

    private void onTopLevelValue(JsonToken t, long end) throws IOException, InvalidRequestException {
        switch (field) {
            case "model" -> {
                if (t != JsonToken.VALUE_STRING) {
                    throw wrongType("model", "a string");
                }
                if (model != null) {
                    throw new InvalidRequestException(ApiError.INVALID_REQUEST, "duplicate field: model");
                }
                model = parser.getText();
                modelEdit = new Edit(valueStart());
                modelEdit.end = end;
                edits.add(modelEdit);
            }
            case "stream" -> {
                if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
                    stream = t == JsonToken.VALUE_TRUE;
                } else if (t != JsonToken.VALUE_NULL) {
                    throw wrongType("stream", "a boolean");
                }
            }
            case "max_tokens", "max_completion_tokens" -> {
                if (t == JsonToken.VALUE_NUMBER_INT) {
                    long v = parser.getValueAsLong(-1);
                    if (v < 0 || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                        throw new InvalidRequestException(ApiError.INVALID_REQUEST,
                                field + " must be a non-negative integer");
                    }
                    maxTokens = maxTokens == null ? v : Math.min(maxTokens, v);
                } else if (t != JsonToken.VALUE_NULL) {
                    throw wrongType(field, "an integer");
                }
            }
            case "messages" -> {
                if (t != JsonToken.START_ARRAY) {
                    throw wrongType("messages", "an array");
                }
                messagesSeen = true;
                inMessages = true;         // a second messages array counts on from the first
            }
            case "stream_options" -> {
                if (t == JsonToken.START_OBJECT) {
                    if (streamOptionsEdit != null) {
                        throw new InvalidRequestException(ApiError.INVALID_REQUEST, "duplicate field: stream_options");
                    }
                    streamOptionsEdit = new Edit(valueStart());
                    edits.add(streamOptionsEdit);
                    streamOptionsBytes = new ByteArrayOutputStream(64);
                    streamOptionsCopy = JSON.createGenerator(streamOptionsBytes);
                    streamOptionsCopy.writeStartObject();
                } else if (t != JsonToken.VALUE_NULL) {
                    throw wrongType("stream_options", "an object");
                }
            }
            default -> {
            }
        }
        if (t.isStructStart()) {
            depth++;
        }
    }

    /**
     * Counts messages and their text. {@code depth} is still that of the container the token is
     * in: 2 the messages array, 3 a message, 4 its content array, 5 a content part.
     */
    private void onMessagesToken(JsonToken t) throws IOException, InvalidRequestException {
        switch (depth) {
            case 2 -> {
                if (t == JsonToken.END_ARRAY) {
                    inMessages = false;
                } else if (++messages > limits.maxMessages()) {
                    throw new InvalidRequestException(ApiError.TOO_MANY_MESSAGES,
                            "a request may carry at most " + limits.maxMessages() + " messages");
                }
            }
            case 3 -> {
                if (t == JsonToken.FIELD_NAME) {
                    member = parser.currentName();
                    return;
                }
                boolean content = "content".equals(member);
                member = null;
                if (content && t == JsonToken.VALUE_STRING) {
                    onText();
                } else if (content && t == JsonToken.START_ARRAY) {
                    inParts = true;
                }
            }
            case 4 -> {
                if (!inParts) {
                    return;
                }
                if (t == JsonToken.END_ARRAY) {
                    inParts = false;
                } else if (t == JsonToken.VALUE_STRING) {
                    onText();
                }
            }
            case 5 -> {
                if (!inParts) {
                    return;
                }
                if (t == JsonToken.FIELD_NAME) {
                    member = parser.currentName();
                    return;
                }
                boolean text = "text".equals(member);
                member = null;
                if (text && t == JsonToken.VALUE_STRING) {
                    onText();
                }
            }
            default -> {
            }
        }
    }

    /**
     * One message text, complete (jackson hands a string over whole): counted and matched on the
     * parser's own characters, so a long text is never copied into a String for it.
     */
    private void onText() throws IOException, InvalidRequestException {
        char[] chars = parser.getTextCharacters();
        int offset = parser.getTextOffset();
        int length = parser.getTextLength();
        int codePoints = Character.codePointCount(chars, offset, length);
        if (codePoints > limits.maxMessageChars() - messageChars) {
            throw new InvalidRequestException(ApiError.MESSAGE_TOO_LONG,
                    "the messages' text may be at most " + limits.maxMessageChars() + " characters long");
        }
        messageChars += codePoints;
        if (!limits.rules().isEmpty() && limits.rules().matches(chars, offset, length)) {
            throw new InvalidRequestException(ApiError.CONTENT_FILTER, "the request was refused by the content rules");
        }
    }

    /** Copies stream_options token by token, leaving out the client's include_usage. */
    private void copyStreamOptions(JsonToken t, long end) throws IOException, InvalidRequestException {
        if (inIncludeUsage) {
            inIncludeUsage = false;
            if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE || t == JsonToken.VALUE_NULL) {
                clientIncludeUsage = t == JsonToken.VALUE_TRUE;
                return;
            }
            throw wrongType("stream_options.include_usage", "a boolean");
        }
        if (depth == 2 && t == JsonToken.FIELD_NAME && "include_usage".equals(parser.currentName())) {
            inIncludeUsage = true;
            return;
        }
        if (depth == 2 && t == JsonToken.END_OBJECT) {
            streamOptionsCopy.writeBooleanField("include_usage", true);
            streamOptionsCopy.writeEndObject();
            streamOptionsCopy.close();
            streamOptionsEdit.end = end;
            streamOptionsEdit.replacement = streamOptionsBytes.toByteArray();
            streamOptionsCopy = null;
            streamOptionsBytes = null;
            return;
        }
        streamOptionsCopy.copyCurrentEvent(parser);
    }

    private InvalidRequestException wrongType(String name, String expected) {
        return new InvalidRequestException(ApiError.INVALID_REQUEST, name + " must be " + expected);
    }

    /** Where the value after the member name just parsed starts: past blanks and the colon. */
    private long valueStart() {
        long pos = parsedEnd;
        int base = pending.readerIndex();
        while (pos < fed) {
            byte b = pending.getByte(base + (int) (pos - emitted));
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r' && b != ':') {
                return pos;
            }
            pos++;
        }
        return pos;
    }

    /** The model the client asked for, once parsed; null before. */
    public String model() {
        return model;
    }

    /** Whether the client asked for a stream; null when not (yet) said. */
    public boolean stream() {
        return Boolean.TRUE.equals(stream);
    }

    /** max_tokens or max_completion_tokens (the smaller), or null. */
    public Long maxTokens() {
        return maxTokens;
    }

    /** Whether the client itself asked for the usage chunk of a stream. */
    public boolean clientIncludeUsage() {
        return clientIncludeUsage;
    }

    public long bodyBytes() {
        return fed;
    }

    /** Elements of messages parsed so far. */
    public int messageCount() {
        return messages;
    }

    /** Code points of message text parsed so far. */
    public long messageChars() {
        return messageChars;
    }

    /**
     * Sets the name the upstream knows the model by; until then nothing can be drained. Called
     * again for another route, it changes what is drained from now on and what {@link #replay}
     * sends.
     */
    public void rewriteModel(String upstreamModel) {
        if (modelEdit == null) {
            throw new IllegalStateException("model not parsed yet");
        }
        byte[] name = JsonStringEncoder.getInstance().quoteAsUTF8(upstreamModel);
        byte[] quoted = new byte[name.length + 2];
        quoted[0] = '"';
        System.arraycopy(name, 0, quoted, 1, name.length);
        quoted[quoted.length - 1] = '"';
        modelEdit.replacement = quoted;         // a new array: bytes drained earlier keep the old name
    }

    /** The rewritten bytes that may go upstream now; never the root's closing brace. */
    public ByteBuf drainReady(ByteBufAllocator alloc) {
        // Inside a nested value (a message's long content, say) the unfinished token can be no
        // member we edit, so every byte fed so far may go: a 500 KB string is never held whole.
        // At the top level the unfinished token may be a value we have to rewrite: wait for it.
        long limit = depth >= 2 ? fed : parsedEnd;
        if (rootEnd >= 0) {
            limit = Math.min(limit, rootEnd);
        }
        for (Edit e : edits) {
            if (!e.resolved()) {
                limit = Math.min(limit, e.start);
                break;
            }
        }
        return kept(drainTo(alloc, limit, null));
    }

    /** After {@link #finish}: everything left, with a stream_options member added when needed. */
    public ByteBuf drainTail(ByteBufAllocator alloc) {
        if (!finished || !rootClosed || !modelEdit.resolved() || tailDrained) {
            throw new IllegalStateException("the body is not complete, not routed, or its tail already drained");
        }
        tailDrained = true;
        boolean addUsage = stream() && streamOptionsEdit == null;
        CompositeByteBuf composite = drainTo(alloc, rootEnd, addUsage ? INCLUDE_USAGE_MEMBER : null);
        composite.addComponent(true, CLOSE_BRACE.duplicate());
        pending.skipBytes(pending.readableBytes());
        emitted = fed;
        return kept(composite);
    }

    /** Whether {@link #drainTail} was called: the whole body has been let go. */
    public boolean tailDrained() {
        return tailDrained;
    }

    /**
     * Keeps what is drained from now on, as long as it totals at most {@code maxBytes}, so that
     * {@link #replay} can hand it out again; past that it is let go and the body can no longer be
     * replayed. Call before the first drain.
     */
    public void keepForReplay(ByteBufAllocator alloc, int maxBytes) {
        if (drained > 0 || replay != null) {
            throw new IllegalStateException("already drained or kept");
        }
        replayLimit = maxBytes;
        replay = alloc.compositeBuffer(Integer.MAX_VALUE);
    }

    /** Whether everything drained so far can be handed out again: nothing was, or all of it is kept. */
    public boolean replayable() {
        return drained == 0 || replay != null;
    }

    /**
     * Everything drained so far, again, with the model as {@link #rewriteModel} last set it:
     * what another upstream must be sent before the bytes still to be drained. Empty when nothing
     * was drained.
     *
     * @throws IllegalStateException when not {@link #replayable()}
     */
    public ByteBuf replay(ByteBufAllocator alloc) {
        if (drained == 0) {
            return Unpooled.EMPTY_BUFFER;
        }
        if (replay == null) {
            throw new IllegalStateException("the drained bytes were not kept");
        }
        CompositeByteBuf out = alloc.compositeBuffer(Integer.MAX_VALUE);
        int n = replay.readableBytes();
        if (modelAt < 0) {
            addKept(out, 0, n);
        } else {
            int after = (int) modelAt + modelDrainedLength;
            addKept(out, 0, (int) modelAt);
            out.addComponent(true, direct(alloc, modelEdit.replacement));
            addKept(out, after, n - after);
        }
        return out;
    }

    /** Lets the kept bytes go: nothing will be replayed any more (an answer has started). */
    public void dropReplay() {
        if (replay != null) {
            replay.release();
            replay = null;
        }
    }

    private void addKept(CompositeByteBuf out, int from, int length) {
        if (length > 0) {
            for (ByteBuf part : replay.decompose(from, length)) {
                out.addComponent(true, part.retain());
            }
        }
    }

    /** Counts what is let go and, while kept for replay, keeps it: the leaf buffers, never copied. */
    private ByteBuf kept(CompositeByteBuf out) {
        int n = out.readableBytes();
        drained += n;
        if (replay != null && n > 0) {
            if (drained > replayLimit) {
                dropReplay();
            } else {
                for (ByteBuf part : out.decompose(out.readerIndex(), n)) {
                    replay.addComponent(true, part.retain());
                }
            }
        }
        return out;
    }

    private CompositeByteBuf drainTo(ByteBufAllocator alloc, long limit, ByteBuf suffix) {
        CompositeByteBuf out = alloc.compositeBuffer(Integer.MAX_VALUE);
        while (!edits.isEmpty() && edits.peek().resolved() && edits.peek().start < limit) {
            Edit e = edits.poll();
            takeInput(out, e.start);
            if (e == modelEdit) {
                modelAt = drained + out.readableBytes();
                modelDrainedLength = e.replacement.length;
            }
            out.addComponent(true, direct(alloc, e.replacement));
            pending.skipBytes((int) (e.end - emitted));
            emitted = e.end;
        }
        takeInput(out, limit);
        if (suffix != null) {
            out.addComponent(true, suffix.duplicate());
        }
        pending.discardReadComponents();
        return out;
    }

    /**
     * Bytes of ours (a rewritten model or member) as a part of what is drained: in a direct buffer,
     * since one heap part makes the whole composite not direct, and the epoll transport then
     * copies all of it, the client's body included, into a direct buffer before writing it (half
     * a microsecond a request in a saturation profile).
     */
    private static ByteBuf direct(ByteBufAllocator alloc, byte[] bytes) {
        return alloc.directBuffer(bytes.length).writeBytes(bytes);
    }

    /**
     * Bytes of ours that every body may take (see {@link #direct}): one direct buffer for all
     * bodies, added as a duplicate (its own indices) that ignores release, so no buffer is
     * allocated for them per request.
     */
    private static ByteBuf constant(String ascii) {
        byte[] bytes = ascii.getBytes(StandardCharsets.US_ASCII);
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length, bytes.length).writeBytes(bytes));
    }

    private void takeInput(CompositeByteBuf out, long until) {
        if (until > emitted) {
            int n = (int) (until - emitted);
            // Slices of the components themselves, not of the composite: pending discards its read
            // components below, which would shift a slice of the composite under our feet.
            for (ByteBuf part : pending.decompose(pending.readerIndex(), n)) {
                out.addComponent(true, part.retain());
            }
            pending.skipBytes(n);
            emitted = until;
        }
    }

    @Override
    public void close() {
        try {
            parser.close();
        } catch (IOException ignored) {
            // nothing to free but the buffers below
        }
        if (pending.refCnt() > 0) {
            pending.release();
        }
        dropReplay();
    }
}
