package io.tollgate.bench.suite;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends one large request slowly, a step at a time, and after each step asks the kernel how much
 * of it the proxy holds ({@link SocketStats#heldByProxy}) and how much reached the upstream. A
 * proxy that streams holds about a step at most; one that waits for the whole body (or for a
 * whole JSON token) holds everything sent so far.
 */
public final class UploadProbe {

    /**
     * @param maxHeld      the most the proxy held at any step
     * @param heldAtHalf   what it held with half of the body sent
     * @param steps        (body bytes sent, held, reached the upstream) after each step
     * @param status       the answer's status once the whole body was sent; -1 if none came
     */
    public record Result(long maxHeld, long heldAtHalf, List<long[]> steps, int status) {
    }

    private UploadProbe() {
    }

    public static Result run(String host, int port, int upstreamPort, byte[] head, byte[] body, int step,
                             Duration settle) throws IOException, InterruptedException {
        List<long[]> steps = new ArrayList<>();
        long maxHeld = 0;
        long heldAtHalf = 0;
        try (Socket s = new Socket(host, port)) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            List<SocketStats.Sock> before = SocketStats.snapshot(port, upstreamPort);
            out.write(head);
            for (int off = 0; off < body.length; off += step) {
                int n = Math.min(step, body.length - off);
                boolean last = off + n >= body.length;
                if (last) {
                    break;                                    // the last step completes the request: not a hold
                }
                out.write(body, off, n);
                out.flush();
                Thread.sleep(settle.toMillis());
                List<SocketStats.Sock> now = SocketStats.snapshot(port, upstreamPort);
                long held = SocketStats.heldByProxy(before, now, port, upstreamPort);
                long upstream = SocketStats.receivedBy(before, now, upstreamPort);
                steps.add(new long[] {off + n, held, upstream});
                maxHeld = Math.max(maxHeld, held);
                if (heldAtHalf == 0 && off + n >= body.length / 2) {
                    heldAtHalf = held;
                }
            }
            int sent = steps.isEmpty() ? 0 : (int) steps.get(steps.size() - 1)[0];
            out.write(body, sent, body.length - sent);
            out.flush();
            return new Result(maxHeld, heldAtHalf, steps, readStatus(s.getInputStream()));
        }
    }

    /** The status code of the response, read until its head ends; -1 when the connection closes first. */
    static int readStatus(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            line.append((char) b);
        }
        String l = line.toString();
        if (!l.startsWith("HTTP/1.")) {
            return -1;
        }
        return Integer.parseInt(l.substring(9, 12));
    }

    /** A POST head with a Content-Length, for the probe's hand-written request. */
    public static byte[] head(String host, int port, String path, java.util.Map<String, String> headers, int length) {
        StringBuilder h = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\n")
                .append("Host: ").append(host).append(':').append(port).append("\r\n")
                .append("Content-Type: application/json\r\n")
                .append("Content-Length: ").append(length).append("\r\n")
                .append("Connection: close\r\n");
        headers.forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
        return h.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
