package io.tollgate.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.util.Map;

/** Builds and sends the admin API's responses; every one carries {@code X-Request-Id}. */
final class HttpResponses {

    static final String REQUEST_ID = "X-Request-Id";

    private HttpResponses() {
    }

    /** A JSON response, or an empty one when {@code body} is null (204). */
    static FullHttpResponse json(HttpResponseStatus status, byte[] body, String requestId) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        response.headers().set(REQUEST_ID, requestId);
        // Key secrets travel in these bodies; no cache may keep them.
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (body != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
        }
        if (status.code() != HttpResponseStatus.NO_CONTENT.code()) {
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        }
        return response;
    }

    static FullHttpResponse error(Json json, ApiException e, String requestId) {
        FullHttpResponse response = json(e.status(), json.write(ApiResponse.ErrorBody.of(e)), requestId);
        for (Map.Entry<String, String> header : e.headers().entrySet()) {
            response.headers().set(header.getKey(), header.getValue());
        }
        return response;
    }

    /** Writes the response; with {@code close} the connection ends once it is sent. */
    static void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean close) {
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(response);
        }
    }
}
