package io.tollgate.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.List;

/**
 * Netty's request decoder, and what the client pipeline once did in three handlers behind it:
 * <ul>
 *   <li><b>Strict HTTP/1.1 framing.</b> A head it could not read, Content-Length together with
 *       Transfer-Encoding, several Content-Length values, or a final coding other than chunked is
 *       answered with one error and the connection is closed, since the body's end is ambiguous (a
 *       request-smuggling vector behind other proxies); a body that fails to decode closes it.
 *       Nothing decoded after such a message goes on.</li>
 *   <li><b>One message per {@code read()}</b>, as Netty's {@code FlowControlHandler} gives: a read
 *       may decode several messages (a head and its body, pipelined requests), which are held here
 *       and handed on one for each {@code read()} the handlers behind ask for. The read() reaches
 *       this decoder through the {@link ResponseEncoder} beside it (an inbound handler sees no
 *       read()); a read() that finds nothing held reads the socket. A completion follows each
 *       message that leaves nothing held; the socket's own read completions stop here.</li>
 *   <li><b>The body limit.</b> Body bytes are counted as they are handed on, Content-Length or
 *       chunked; past the limit {@link BodyLimitExceeded} is fired once and the rest of that body
 *       is thrown away, so no handler behind ever forwards a whole over-limit request. A
 *       Content-Length over the limit is refused at the head, before a body byte is read.</li>
 * </ul>
 * One handler for all three: each of its own cost every message of every connection a pipeline
 * context more to pass (a cache miss on each, the most of a context's cost).
 */
public final class RequestDecoder extends HttpRequestDecoder {

    private final long maxBodyBytes;
    private ChannelHandlerContext ctx;
    private ChannelConfig config;
    private boolean rejected;

    /** Decoded, not yet asked for. */
    private final ArrayDeque<Object> held = new ArrayDeque<>(4);
    /** A read() found nothing held: the next message decoded goes on at once. */
    private boolean demand;
    /** This read cycle brought bytes. */
    private boolean sawBytes;
    /** This read cycle decoded a message. */
    private boolean decodedAny;

    private long bodySeen;
    private boolean bodyOverflowed;

    public RequestDecoder(HttpDecoderConfig config) {
        this(config, Long.MAX_VALUE);
    }

    /** @param maxBodyBytes the largest request body handed on; past it {@link BodyLimitExceeded} */
    public RequestDecoder(HttpDecoderConfig config, long maxBodyBytes) {
        super(config);
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        this.config = ctx.channel().config();
        super.handlerAdded(ctx);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        // Keep Content-Length: the request is refused below instead of Netty silently picking one.
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf) {
            sawBytes = true;
        }
        super.channelRead(ctx, msg);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (rejected) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        int from = out.size();
        super.decode(ctx, buffer, out);
        check(ctx, buffer, out, from);
        handOver(out, from);
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        int from = out.size();
        super.decodeLast(ctx, in, out);
        check(ctx, in, out, from);
        handOver(out, from);
        if (!ctx.channel().isActive()) {
            releaseHeld();              // the connection is gone: nothing held will be asked for
        }
    }

    /**
     * The socket's read cycle ended. As Netty's decoder does, a cycle that brought bytes but no
     * whole message reads on (auto-read is off); its completion goes no further, each handed-on
     * message brings its own. Netty's own {@code channelReadComplete} is not called, since it
     * passes the completion on; what it resets besides is its count of reads between discards,
     * which its {@code channelRead} resets as well.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        discardSomeReadBytes();
        if (sawBytes && !decodedAny && !config.isAutoRead()) {
            ctx.read();
        }
        sawBytes = false;
        decodedAny = false;
    }

    /**
     * A handler behind asked for a message ({@link ResponseEncoder#read}): the next one held goes
     * on, or, with none held, the socket is read and the next one decoded goes on at once.
     */
    void readRequested(ChannelHandlerContext below) {
        if (dequeue(1) == 0) {
            demand = true;
            below.read();
        }
    }

    /** Takes {@code out[from..]} from Netty's decoder, each as if it had reached a flow-control handler. */
    private void handOver(List<Object> out, int from) {
        int n = out.size() - from;
        if (n == 0) {
            return;
        }
        decodedAny = true;
        for (int i = 0; i < n; i++) {
            held.offer(out.remove(from));
            int minimum = demand ? 1 : 0;
            demand = false;
            dequeue(minimum);
        }
    }

    /** Hands on at least {@code minimum} held messages, all of them with auto-read on. */
    private int dequeue(int minimum) {
        int handed = 0;
        while (handed < minimum || config.isAutoRead()) {
            Object msg = held.poll();
            if (msg == null) {
                break;
            }
            handed++;
            pass(msg);
        }
        if (handed > 0 && held.isEmpty()) {
            ctx.fireChannelReadComplete();
        }
        return handed;
    }

    /** Counts body bytes on the way out; past the limit, the event once and the rest discarded. */
    private void pass(Object msg) {
        if (msg instanceof HttpRequest request) {
            bodySeen = 0;
            bodyOverflowed = false;
            long announced = HttpUtil.getContentLength(request, -1L);
            ctx.fireChannelRead(msg);
            if (announced > maxBodyBytes) {
                bodyOverflowed();
            }
        } else if (msg instanceof HttpContent content) {
            int n = content.content().readableBytes();
            if (bodyOverflowed) {
                content.release();
            } else if (n > maxBodyBytes - bodySeen) {       // overflow-safe: never computes seen + n
                content.release();
                bodyOverflowed();
            } else {
                bodySeen += n;
                ctx.fireChannelRead(msg);
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void bodyOverflowed() {
        bodyOverflowed = true;
        ctx.fireUserEventTriggered(new BodyLimitExceeded(maxBodyBytes));
    }

    private void releaseHeld() {
        Object msg;
        while ((msg = held.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
        releaseHeld();
        super.handlerRemoved0(ctx);
    }

    /** Refuses at the first ill-framed message in {@code out[from..]}, dropping it and all after it. */
    private void check(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out, int from) {
        for (int i = from; i < out.size(); i++) {
            Object msg = out.get(i);
            if (rejected) {
                drop(out, i, buffer);
                return;
            }
            if (msg instanceof HttpRequest request) {
                String problem = problemOf(request);
                if (problem != null) {
                    drop(out, i, buffer);
                    rejected = true;
                    ApiError error = request.decoderResult().cause() instanceof TooLongFrameException
                            ? ApiError.HEADERS_TOO_LARGE : ApiError.INVALID_REQUEST;
                    FullHttpResponse response = ErrorResponses.of(ctx.alloc(), error, problem, RequestIds.next());
                    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                    ctx.channel().writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                    return;
                }
            } else if (msg instanceof HttpContent content && content.decoderResult().isFailure()) {
                drop(out, i, buffer);
                rejected = true;
                ctx.close();
                return;
            }
        }
    }

    /** Releases and removes {@code out[i..]}, and skips what is left of the input. */
    private static void drop(List<Object> out, int i, ByteBuf buffer) {
        while (out.size() > i) {
            ReferenceCountUtil.release(out.remove(out.size() - 1));
        }
        buffer.skipBytes(buffer.readableBytes());
    }

    static String problemOf(HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            return cause instanceof TooLongFrameException
                    ? "request head is too large"
                    : "malformed HTTP request: " + cause.getMessage();
        }
        List<String> lengths = request.headers().getAll(HttpHeaderNames.CONTENT_LENGTH);
        List<String> codings = request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!lengths.isEmpty() && !codings.isEmpty()) {
            return "Content-Length and Transfer-Encoding must not both be sent";
        }
        if (lengths.size() > 1 || (lengths.size() == 1 && lengths.get(0).indexOf(',') >= 0)) {
            return "more than one Content-Length";
        }
        if (!codings.isEmpty()) {
            String last = codings.get(codings.size() - 1);
            int comma = last.lastIndexOf(',');
            String finalCoding = (comma < 0 ? last : last.substring(comma + 1)).trim();
            if (!HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(finalCoding)) {
                return "the final transfer coding must be chunked";
            }
        }
        return null;
    }
}
