package io.tollgate.proxy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** HTTP/1.1 over a plain socket, for what java.net.http hides: framing, pipelining, half-sent heads. */
final class RawSocket implements AutoCloseable {

    record Response(int status, Map<String, String> headers, byte[] body) {

        String bodyUtf8() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

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
    Response readResponse() throws IOException {
        String statusLine = readLine();
        int status = Integer.parseInt(statusLine.split(" ", 3)[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            for (int size = Integer.parseInt(readLine().trim(), 16); size > 0; size = Integer.parseInt(readLine().trim(), 16)) {
                body.write(in.readNBytes(size));
                readLine();
            }
            readLine();
        } else {
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            byte[] bytes = in.readNBytes(length);
            if (bytes.length < length) {
                throw new EOFException("body ended after " + bytes.length + " of " + length + " bytes");
            }
            body.write(bytes);
        }
        return new Response(status, headers, body.toByteArray());
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

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("connection closed mid-line: " + line);
            }
            line.write(b);
        }
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
