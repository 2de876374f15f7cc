package io.tollgate.proxy.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * Strict HTTP/1.1 framing: a head the decoder could not read, Content-Length together with
 * Transfer-Encoding, several Content-Length values, or a final coding other than chunked is
 * answered with one error and the connection is closed, since the body's end is ambiguous.
 */
public final class RequestFramingHandler extends ChannelInboundHandlerAdapter {

    private boolean rejected;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (rejected) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            String problem = problemOf(request);
            if (problem != null) {
                ReferenceCountUtil.release(msg);
                rejected = true;
                ApiError error = request.decoderResult().cause() instanceof TooLongFrameException
                        ? ApiError.HEADERS_TOO_LARGE : ApiError.INVALID_REQUEST;
                FullHttpResponse response = ErrorResponses.of(ctx.alloc(), error, problem, RequestIds.next());
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.channel().writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                return;
            }
        } else if (msg instanceof io.netty.handler.codec.http.HttpContent content && content.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            rejected = true;
            ctx.close();
            return;
        }
        ctx.fireChannelRead(msg);
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
