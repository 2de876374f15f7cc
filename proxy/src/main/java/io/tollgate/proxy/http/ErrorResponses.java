package io.tollgate.proxy.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpVersion;

import java.io.IOException;
import java.io.UncheckedIOException;

/** Builds the one error body every client sees: {"error":{"message","type","code"}}. */
public final class ErrorResponses {

    private static final JsonFactory JSON = new JsonFactory();

    private ErrorResponses() {
    }

    public static FullHttpResponse of(ByteBufAllocator alloc, ApiError error, String message, String requestId) {
        ByteBuf body = alloc.buffer(128 + message.length());
        try (JsonGenerator g = JSON.createGenerator((java.io.OutputStream) new ByteBufOutputStream(body))) {
            g.writeStartObject();
            g.writeObjectFieldStart("error");
            g.writeStringField("message", message);
            g.writeStringField("type", error.type());
            g.writeStringField("code", error.code());
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            body.release();
            throw new UncheckedIOException(e);
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, error.status(), body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        if (requestId != null) {
            response.headers().set(Headers.X_REQUEST_ID, requestId);
        }
        return response;
    }
}
