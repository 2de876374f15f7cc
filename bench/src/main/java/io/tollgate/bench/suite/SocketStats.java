package io.tollgate.bench.suite;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's byte counters of established TCP connections ({@code ss -tin}): how much each
 * socket received and had acknowledged, and what waits in its queues. With them the harness sees
 * how many bytes a proxy has read from a client but not yet written upstream, from the outside.
 */
public final class SocketStats {

    /** One socket as {@code ss} prints it. */
    public record Sock(String local, int localPort, String peer, int peerPort, long recvQ, long sendQ,
                       long bytesAcked, long bytesReceived) {
        String key() {
            return local + ">" + peer;
        }
    }

    private static final Pattern ACKED = Pattern.compile("bytes_acked:(\\d+)");
    private static final Pattern RECEIVED = Pattern.compile("bytes_received:(\\d+)");

    private SocketStats() {
    }

    /** Established TCP sockets with a local or peer port among {@code ports}. */
    public static List<Sock> snapshot(int... ports) {
        StringBuilder filter = new StringBuilder("( ");
        for (int i = 0; i < ports.length; i++) {
            if (i > 0) {
                filter.append(" or ");
            }
            filter.append("sport = :").append(ports[i]).append(" or dport = :").append(ports[i]);
        }
        filter.append(" )");
        try {
            Process p = new ProcessBuilder("ss", "-tinH", "state", "established", filter.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("ss failed: " + out);
            }
            return parse(out);
        } catch (IOException e) {
            throw new IllegalStateException("ss (iproute2) is needed for the upload probe: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Parses {@code ss -tinH state established}: a socket line, then an indented line of tcp_info. */
    static List<Sock> parse(String out) {
        List<Sock> socks = new ArrayList<>();
        String[] lines = out.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank() || Character.isWhitespace(line.charAt(0))) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            if (f.length < 4) {
                continue;
            }
            String info = i + 1 < lines.length && !lines[i + 1].isEmpty() && Character.isWhitespace(lines[i + 1].charAt(0))
                    ? lines[i + 1] : "";
            socks.add(new Sock(f[2], port(f[2]), f[3], port(f[3]), Long.parseLong(f[0]), Long.parseLong(f[1]),
                    find(ACKED, info), find(RECEIVED, info)));
        }
        return socks;
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    private static long find(Pattern p, String s) {
        Matcher m = p.matcher(s);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /**
     * Bytes a proxy holds in its own memory between two snapshots: what it read from its clients
     * (received on sockets at {@code proxyPort}, minus what still waits unread in their queues)
     * minus what it wrote towards the upstream (acknowledged by the upstream's kernel, plus what
     * waits in its send queues). Sockets absent from {@code before} count from zero.
     */
    public static long heldByProxy(List<Sock> before, List<Sock> after, int proxyPort, int upstreamPort) {
        Map<String, Sock> old = new HashMap<>();
        before.forEach(s -> old.put(s.key(), s));
        long read = 0;
        long written = 0;
        for (Sock s : after) {
            Sock b = old.get(s.key());
            if (s.localPort() == proxyPort) {
                long was = b == null ? 0 : b.bytesReceived() - b.recvQ();
                read += s.bytesReceived() - s.recvQ() - was;
            } else if (s.peerPort() == upstreamPort) {
                long was = b == null ? 0 : b.bytesAcked() + b.sendQ();
                written += s.bytesAcked() + s.sendQ() - was;
            }
        }
        return read - written;
    }

    /** Bytes the upstream's sockets received between two snapshots. */
    public static long receivedBy(List<Sock> before, List<Sock> after, int port) {
        Map<String, Sock> old = new HashMap<>();
        before.forEach(s -> old.put(s.key(), s));
        long n = 0;
        for (Sock s : after) {
            if (s.localPort() == port) {
                Sock b = old.get(s.key());
                n += s.bytesReceived() - (b == null ? 0 : b.bytesReceived());
            }
        }
        return n;
    }
}
