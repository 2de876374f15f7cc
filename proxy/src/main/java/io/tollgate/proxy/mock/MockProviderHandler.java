package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.tollgate.proxy.mock.ChatAnswers.Answer;
import io.tollgate.proxy.mock.MockOverrides.Behavior;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Plays the provider for one connection: records each request, applies the {@link MockHeaders},
 * then answers like OpenAI. Exchanges on a connection run one at a time; a pipelined request
 * waits until the answer before it is complete.
 */
final class MockProviderHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(MockProviderHandler.class);

    private static final AsciiString APPLICATION_JSON = AsciiString.cached("application/json");
    private static final AsciiString TEXT_EVENT_STREAM = AsciiString.cached("text/event-stream");
    private static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    private static final String BEARER = "bearer ";
    private static final String VIDEOS = "/videos/generations";

    private static final byte[] MODELS = ("{\"object\":\"list\",\"data\":[{\"id\":\"mock-model\",\"object\":\"model\","
            + "\"created\":1700000000,\"owned_by\":\"mock\"}]}").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] GARBAGE = "SSH-2.0-this-is-not-http\r\n\0\1\2\3\u007f garbage\r\n\r\n"
            .getBytes(StandardCharsets.ISO_8859_1);

    private final MockProvider.Options options;
    private final MockRecords records;
    private final ObjectMapper json;
    private final ChatAnswers answers;
    private final MockMedia media;

    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
    private boolean busy;
    private ScheduledFuture<?> timer;

    MockProviderHandler(MockProvider.Options options, MockRecords records, ObjectMapper json, ChatAnswers answers,
                        MockMedia media) {
        this.options = options;
        this.records = records;
        this.json = json;
        this.answers = answers;
        this.media = media;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (busy) {
            waiting.add(request);
            return;
        }
        serve(ctx, request);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            records.abandonedAnswer();                  // the client left mid-answer: it was cancelled
            timer.cancel(false);
            timer = null;
        }
        FullHttpRequest request;
        while ((request = waiting.poll()) != null) {
            request.release();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            log.warn("mock provider: closing {} after an unexpected error", ctx.channel(), cause);
        }
        ctx.close();
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest request) {
        busy = true;
        if (request.decoderResult().isFailure()) {
            request.release();
            sendError(ctx, OpenAiError.invalidRequest("invalid_request", null, "Malformed HTTP request."), false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        long delayMs;
        Consumer<ChannelHandlerContext> answer;
        try {
            byte[] body = ByteBufUtil.getBytes(request.content());
            records.request(new MockProvider.RecordedRequest(
                    request.method().name(), request.uri(), request.headers().copy(), body));
            MockOverrides overrides = MockOverrides.parse(request.headers(), options);
            delayMs = overrides.firstByteDelayMs();
            answer = plan(request, body, overrides, keepAlive);
        } catch (MockException e) {
            delayMs = 0;
            answer = c -> sendError(c, e.error(), keepAlive);
        } finally {
            request.release();
        }
        if (delayMs > 0) {
            Consumer<ChannelHandlerContext> delayed = answer;
            timer = ctx.executor().schedule(() -> {
                timer = null;
                if (ctx.channel().isActive()) {
                    delayed.accept(ctx);
                }
            }, delayMs, TimeUnit.MILLISECONDS);
        } else {
            answer.accept(ctx);
        }
    }

    /** Decides the answer now, from the request that is about to be released; runs it later. */
    private Consumer<ChannelHandlerContext> plan(FullHttpRequest request, byte[] body, MockOverrides overrides,
                                                 boolean keepAlive) throws MockException {
        Consumer<ChannelHandlerContext> broken = switch (overrides.behavior()) {
            case CLOSE_BEFORE_HEAD -> ChannelHandlerContext::close;
            case GARBAGE -> MockProviderHandler::writeGarbage;
            case HANG -> c -> { };
            default -> null;
        };
        if (broken != null) {
            return broken;
        }
        if (overrides.status() != 0) {
            OpenAiError error = OpenAiError.forStatus(overrides.status());
            return c -> sendError(c, error, keepAlive);
        }

        String uri = request.uri();
        int query = uri.indexOf('?');
        String path = query < 0 ? uri : uri.substring(0, query);
        HttpMethod method = request.method();
        if (HttpMethod.POST.equals(method) && path.endsWith("/chat/completions")) {
            authenticate(request.headers());
            return chat(ChatRequest.parse(json, body), overrides, keepAlive);
        }
        if (HttpMethod.GET.equals(method) && path.endsWith("/models")) {
            authenticate(request.headers());
            return c -> sendFull(c, HttpResponseStatus.OK, Unpooled.wrappedBuffer(MODELS), null, keepAlive);
        }
        if (HttpMethod.POST.equals(method) && path.endsWith("/images/generations")) {
            authenticate(request.headers());
            byte[] images = media.images(body, request.headers());
            return c -> sendJson(c, images, overrides.behavior(), keepAlive);
        }
        if (HttpMethod.POST.equals(method) && path.endsWith(VIDEOS)) {
            authenticate(request.headers());
            byte[] task = media.submitVideo(body, request.headers());
            return c -> sendJson(c, task, overrides.behavior(), keepAlive);
        }
        int videos = path.lastIndexOf(VIDEOS + "/");
        if (HttpMethod.GET.equals(method) && videos >= 0 && path.indexOf('/', videos + VIDEOS.length() + 1) < 0) {
            authenticate(request.headers());
            byte[] task = media.pollVideo(path.substring(videos + VIDEOS.length() + 1));
            return c -> sendJson(c, task, overrides.behavior(), keepAlive);
        }
        throw new MockException(OpenAiError.unknownUrl(method.name(), path));
    }

    private void authenticate(HttpHeaders headers) throws MockException {
        String authorization = headers.get(HttpHeaderNames.AUTHORIZATION);
        String key = authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())
                ? authorization.substring(BEARER.length()).trim() : "";
        if (key.isEmpty()) {
            throw new MockException(OpenAiError.invalidApiKey("You didn't provide an API key. You need to provide "
                    + "your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."));
        }
        String expected = options.expectedApiKey();
        if (expected != null && !expected.equals(key)) {
            throw new MockException(OpenAiError.invalidApiKey("Incorrect API key provided: " + masked(key) + "."));
        }
    }

    private static String masked(String key) {
        return key.length() <= 8 ? "****" : key.substring(0, 3) + "*".repeat(key.length() - 7) + key.substring(key.length() - 4);
    }

    private Consumer<ChannelHandlerContext> chat(ChatRequest chat, MockOverrides overrides, boolean keepAlive) {
        int completionTokens = Math.min(overrides.tokens(), chat.maxTokens());
        long promptTokens = overrides.reportedPromptTokens() != null ? overrides.reportedPromptTokens() : chat.promptTokens();
        Answer answer = answers.open(chat.model(), promptTokens, completionTokens);
        Behavior behavior = overrides.behavior();
        if (chat.stream()) {
            return c -> new StreamedAnswer(c, answer, overrides.chunkDelayMs(), overrides.firstChunkDelayMs(),
                    chat.includeUsage(),
                    chat.includeUsage() && behavior != Behavior.USAGE_MISSING,
                    behavior == Behavior.CLOSE_MID_STREAM, keepAlive).start();
        }
        return c -> sendCompletion(c, answer, behavior, keepAlive);
    }

    private void sendCompletion(ChannelHandlerContext ctx, Answer answer, Behavior behavior, boolean keepAlive) {
        boolean withUsage = behavior != Behavior.USAGE_MISSING;
        ByteBuf body = answer.completion(ctx.alloc(), withUsage);
        if (behavior == Behavior.CLOSE_MID_STREAM) {
            // Promise the whole body, deliver half of it.
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                    .set(X_REQUEST_ID, answer.id());
            ctx.write(head);
            ByteBuf half = body.readRetainedSlice(body.readableBytes() / 2);
            body.release();
            ctx.writeAndFlush(new DefaultHttpContent(half)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (withUsage) {
            records.usage(answer.usage());
        }
        sendFull(ctx, HttpResponseStatus.OK, body, answer.id(), keepAlive);
    }

    /** A whole JSON answer; {@link Behavior#CLOSE_MID_STREAM} promises it all and delivers half, then closes. */
    private void sendJson(ChannelHandlerContext ctx, byte[] json, Behavior behavior, boolean keepAlive) {
        if (behavior == Behavior.CLOSE_MID_STREAM) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, json.length);
            ctx.write(head);
            ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(json, 0, json.length / 2)))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        sendFull(ctx, HttpResponseStatus.OK, Unpooled.wrappedBuffer(json), null, keepAlive);
    }

    private void sendError(ChannelHandlerContext ctx, OpenAiError error, boolean keepAlive) {
        sendFull(ctx, error.status(), error.body(ctx.alloc()), null, keepAlive);
    }

    private void sendFull(ChannelHandlerContext ctx, HttpResponseStatus status, ByteBuf body, String requestId,
                          boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        if (requestId != null) {
            response.headers().set(X_REQUEST_ID, requestId);
        }
        HttpUtil.setKeepAlive(response, keepAlive);
        exchangeDone(ctx, ctx.writeAndFlush(response), keepAlive);
    }

    private static void writeGarbage(ChannelHandlerContext ctx) {
        // From the first handler's context, so the bytes bypass the HTTP encoder.
        ctx.pipeline().firstContext().writeAndFlush(Unpooled.wrappedBuffer(GARBAGE))
                .addListener(ChannelFutureListener.CLOSE);
    }

    /** The answer is written: close, or serve the next pipelined request. */
    private void exchangeDone(ChannelHandlerContext ctx, ChannelFuture lastWrite, boolean keepAlive) {
        if (!keepAlive) {
            lastWrite.addListener(ChannelFutureListener.CLOSE);
            return;
        }
        busy = false;
        FullHttpRequest next = waiting.poll();
        if (next != null) {
            serve(ctx, next);
        }
    }

    /** One SSE answer, a chunk per token, paced on the channel's event loop. */
    private final class StreamedAnswer implements Runnable {

        private final ChannelHandlerContext ctx;
        private final Answer answer;
        private final long chunkDelayMs;
        private final long firstChunkDelayMs;
        private final boolean usageNull;
        private final boolean sendUsage;
        private final int closeAfter;
        private final boolean keepAlive;
        private int next;

        StreamedAnswer(ChannelHandlerContext ctx, Answer answer, long chunkDelayMs, long firstChunkDelayMs,
                       boolean usageNull, boolean sendUsage, boolean closeMidStream, boolean keepAlive) {
            this.ctx = ctx;
            this.answer = answer;
            this.chunkDelayMs = chunkDelayMs;
            this.firstChunkDelayMs = firstChunkDelayMs;
            this.usageNull = usageNull;
            this.sendUsage = sendUsage;
            this.closeAfter = closeMidStream ? answer.chunkCount() / 2 : -1;
            this.keepAlive = keepAlive;
        }

        void start() {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, TEXT_EVENT_STREAM)
                    .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                    .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                    .set(X_REQUEST_ID, answer.id());
            HttpUtil.setKeepAlive(head, keepAlive);
            if (closeAfter == 0) {
                ctx.writeAndFlush(head).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            if (firstChunkDelayMs > 0) {
                ctx.writeAndFlush(head);
                timer = ctx.executor().schedule(this, firstChunkDelayMs, TimeUnit.MILLISECONDS);
                return;
            }
            ctx.write(head);
            run();
        }

        @Override
        public void run() {
            timer = null;
            if (!ctx.channel().isActive()) {
                return;
            }
            while (true) {
                ChannelFuture written = ctx.writeAndFlush(
                        new DefaultHttpContent(answer.chunk(ctx.alloc(), next, usageNull)));
                next++;
                if (next == closeAfter) {
                    written.addListener(ChannelFutureListener.CLOSE);
                    return;
                }
                if (next == answer.chunkCount()) {
                    finish();
                    return;
                }
                if (chunkDelayMs > 0) {
                    timer = ctx.executor().schedule(this, chunkDelayMs, TimeUnit.MILLISECONDS);
                    return;
                }
            }
        }

        private void finish() {
            if (sendUsage) {
                ctx.write(new DefaultHttpContent(answer.usageChunk(ctx.alloc())));
                records.usage(answer.usage());
            }
            exchangeDone(ctx, ctx.writeAndFlush(new DefaultLastHttpContent(Answer.done(ctx.alloc()))), keepAlive);
        }
    }
}
