package io.tollgate.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One request, encoded once into a direct buffer that every send shares: a send costs no
 * encoding and no copy.
 *
 * @param sse      true when the answer is a stream of server-sent events to time event by event
 * @param headBytes size of the request head (the rest is the body)
 */
public record Request(ByteBuf bytes, int headBytes, int bodyBytes, boolean sse) {

    /** A POST of {@code body} with Content-Length and keep-alive, plus {@code headers}. */
    public static Request post(String host, int port, String path, Map<String, String> headers, byte[] body, boolean sse) {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("Host", host + ":" + port);
        all.put("Content-Type", "application/json");
        all.put("Content-Length", Integer.toString(body.length));
        if (sse) {
            all.put("Accept", "text/event-stream");
        }
        all.putAll(headers);
        StringBuilder head = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\n");
        all.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        // Wrapped, not allocated: it lives as long as the request, so no leak tracking and no release.
        ByteBuffer direct = ByteBuffer.allocateDirect(h.length + body.length).put(h).put(body).flip();
        return new Request(Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(direct).asReadOnly()),
                h.length, body.length, sse);
    }

    /** What one send writes: the shared bytes, with indices of its own. */
    ByteBuf forSend() {
        return bytes.duplicate();
    }
}
