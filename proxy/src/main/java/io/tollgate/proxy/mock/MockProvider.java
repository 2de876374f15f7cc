package io.tollgate.proxy.mock;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tollgate.proxy.Transport;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A fake OpenAI-compatible provider over real HTTP/1.1: the one test double of the suite and the
 * benchmark's upstream. It serves {@code POST …/chat/completions} (JSON or SSE, usage like
 * OpenAI), {@code GET …/models}, {@code POST …/images/generations} and the video task API
 * ({@code POST …/videos/generations}, {@code GET …/videos/generations/{id}}; see {@link MockMedia})
 * under any path prefix, answers everything else 404 in
 * OpenAI's error format, and can be steered per request by the {@link MockHeaders}.
 *
 * <p>Token counts are deterministic: prompt tokens are the sum over messages of (words of text
 * content + 4), at least 1; completion tokens are {@link Options#completionTokens()} (or
 * {@link MockHeaders#TOKENS}), capped by the request's {@code max_tokens} /
 * {@code max_completion_tokens}.
 */
public final class MockProvider implements AutoCloseable {

    /** Each record list keeps this many newest entries. */
    public static final int RECORD_LIMIT = 10_000;

    /**
     * @param completionTokens tokens of every answer (a request's {@code max_tokens} may lower it)
     * @param chunkDelay       pause between two streamed chunks
     * @param firstByteDelay   pause before the response head
     * @param expectedApiKey   the only bearer key accepted; {@code null} accepts any key
     */
    public record Options(int completionTokens, Duration chunkDelay, Duration firstByteDelay, String expectedApiKey) {

        public Options {
            if (completionTokens < 0) {
                throw new IllegalArgumentException("completionTokens < 0: " + completionTokens);
            }
            Objects.requireNonNull(chunkDelay, "chunkDelay");
            Objects.requireNonNull(firstByteDelay, "firstByteDelay");
            if (chunkDelay.isNegative() || firstByteDelay.isNegative()) {
                throw new IllegalArgumentException("negative delay");
            }
        }

        /** 16 tokens, no delays, any key. */
        public static Options defaults() {
            return new Options(16, Duration.ZERO, Duration.ZERO, null);
        }
    }

    /** A request whose body arrived complete; {@code headers} is a copy taken on arrival. */
    public record RecordedRequest(String method, String uri, HttpHeaders headers, byte[] body) {

        public String bodyUtf8() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** The usage an answer reported, keyed by the answer's {@code id}. */
    public record Usage(String responseId, long promptTokens, long completionTokens) {

        public long totalTokens() {
            return promptTokens + completionTokens;
        }
    }

    private final Channel serverChannel;
    private final ChannelGroup connections;
    private final EventLoopGroup ownGroup;
    private final MockRecords records;
    private final AtomicBoolean closed = new AtomicBoolean();

    private MockProvider(Channel serverChannel, ChannelGroup connections, EventLoopGroup ownGroup, MockRecords records) {
        this.serverChannel = serverChannel;
        this.connections = connections;
        this.ownGroup = ownGroup;
        this.records = records;
    }

    /** Starts on an event loop of its own ({@link Transport#auto()}'s); {@code port} 0 picks a free port. */
    public static MockProvider start(String host, int port, Options options) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tollgate-mock", true),
                Transport.auto().ioHandlerFactory());
        try {
            return bind(group, group, host, port, options);
        } catch (RuntimeException | Error e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * Starts on the caller's event loops, which the caller keeps and shuts down; {@link #close()}
     * only closes the mock's own channels. Blocks until bound, so do not call it on one of
     * {@code group}'s loops.
     */
    public static MockProvider start(EventLoopGroup group, String host, int port, Options options) {
        return bind(group, null, host, port, options);
    }

    private static MockProvider bind(EventLoopGroup group, EventLoopGroup ownGroup, String host, int port,
                                     Options options) {
        Objects.requireNonNull(options, "options");
        MockRecords records = new MockRecords();
        ChannelGroup connections = new DefaultChannelGroup("tollgate-mock", GlobalEventExecutor.INSTANCE);
        Channel channel = new ServerBootstrap()
                .group(group)
                .channel(Transport.of(group).serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)           // as the proxy's: a provider does not drop bursts of connects
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new MockProviderInitializer(options, records, connections))
                .bind(host, port)
                .syncUninterruptibly()
                .channel();
        return new MockProvider(channel, connections, ownGroup, records);
    }

    /** Connections open to it now (a closed one leaves at once). */
    public int openConnections() {
        return connections.size();
    }

    public int port() {
        return address().getPort();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** Every request whose body arrived complete, oldest first. */
    public List<RecordedRequest> requests() {
        return records.requests();
    }

    /** Request heads seen, whether or not their body arrived. */
    public int headsReceived() {
        return records.heads();
    }

    /** Connections that closed after a request head but before its body was complete. */
    public int incompleteRequests() {
        return records.incomplete();
    }

    /** Answers cut short because the client closed the connection before their end. */
    public int abandonedAnswers() {
        return records.abandoned();
    }

    /** The usage of every answer that carried one, in the order they were sent. */
    public List<Usage> reportedUsages() {
        return records.usages();
    }

    /** Forgets every request, usage and count seen so far; response ids keep increasing. */
    public void reset() {
        records.reset();
    }

    /** Stops listening and closes every connection, hanging ones included. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        serverChannel.close().syncUninterruptibly();
        connections.close().awaitUninterruptibly();
        if (ownGroup != null) {
            ownGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
