package io.tollgate.proxy;

import io.tollgate.proxy.mock.RawHttp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;

/** HTTP/1.1 over a plain socket, for what java.net.http hides: framing, pipelining, half-sent heads. */
final class RawSocket implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawSocket(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** A chat completion request framed by Content-Length; {@code extraHeaders} are whole lines. */
    static String chat(String key, String body, String... extraHeaders) {
        StringBuilder request = new StringBuilder()
                .append("POST /v1/chat/completions HTTP/1.1\r\n")
                .append("Host: gateway\r\n")
                .append("Content-Type: application/json\r\n")
                .append("Content-Length: ").append(body.getBytes(StandardCharsets.UTF_8).length).append("\r\n");
        if (key != null) {
            request.append("Authorization: Bearer ").append(key).append("\r\n");
        }
        for (String header : extraHeaders) {
            request.append(header).append("\r\n");
        }
        return request.append("\r\n").append(body).toString();
    }

    RawSocket write(String raw) throws IOException {
        return write(raw.getBytes(StandardCharsets.UTF_8));
    }

    RawSocket write(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
        return this;
    }

    /** One chunk of a chunked body ({@code data} empty: the last chunk). */
    RawSocket writeChunk(byte[] data) throws IOException {
        out.write((Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(data);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        if (data.length == 0) {
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.flush();
        return this;
    }

    /** One whole response, framed by Content-Length or chunked encoding. */
    RawHttp.Response readResponse() throws IOException {
        return RawHttp.readResponse(in);
    }

    /**
     * True when the server closed the connection: the next read sees end of stream (or a reset,
     * which is how a close with unread request bytes looks). False when a byte arrives instead;
     * a read timeout propagates, since an open, silent connection is neither.
     */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketException reset) {
            return true;
        }
    }


    @Override
    public void close() throws IOException {
        socket.close();
    }
}
