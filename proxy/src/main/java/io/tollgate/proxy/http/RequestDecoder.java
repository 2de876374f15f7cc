package io.tollgate.proxy.http;

import io.netty.buffer.ByteBuf;
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
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * Netty's request decoder with strict HTTP/1.1 framing: a head it could not read, Content-Length
 * together with Transfer-Encoding, several Content-Length values, or a final coding other than
 * chunked is answered with one error and the connection is closed, since the body's end is
 * ambiguous (a request-smuggling vector behind other proxies); a body that fails to decode closes
 * it. Nothing decoded after such a message goes on.
 *
 * <p>The check is made on what each decode produced, before it leaves this handler: a handler of
 * its own behind the decoder cost every message of every connection one more pipeline context to
 * pass (a cache miss on each, the most of a context's cost).
 */
public final class RequestDecoder extends HttpRequestDecoder {

    private boolean rejected;

    public RequestDecoder(HttpDecoderConfig config) {
        super(config);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        // Keep Content-Length: the request is refused below instead of Netty silently picking one.
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
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        int from = out.size();
        super.decodeLast(ctx, in, out);
        check(ctx, in, out, from);
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
