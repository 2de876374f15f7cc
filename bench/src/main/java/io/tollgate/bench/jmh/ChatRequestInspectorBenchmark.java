package io.tollgate.bench.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.tollgate.proxy.chat.ChatRequestInspector;
import io.tollgate.proxy.chat.InvalidRequestException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * A chat request body through the streaming inspector as the proxy drives it: fed as the reads
 * deliver it (pieces of {@code read} bytes), the model rewritten once known, ready bytes drained
 * after each piece, then finish and the tail. Everything drained is released.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ChatRequestInspectorBenchmark {

    @Param({"2048", "65536"})
    int bodyBytes;

    /** Bytes per read, as a socket read and the HTTP decoder hand them over. */
    @Param({"16384"})
    int read;

    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    private ByteBuf body;
    private ByteBuf[] pieces;

    @Setup
    public void setup() {
        byte[] bytes = Samples.chatRequest(bodyBytes);
        body = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        int n = (bytes.length + read - 1) / read;
        pieces = new ByteBuf[n];
        for (int i = 0; i < n; i++) {
            int from = i * read;
            pieces[i] = body.slice(from, Math.min(read, bytes.length - from));
        }
    }

    @TearDown
    public void tearDown() {
        body.release();
    }

    @Benchmark
    public long inspect() throws InvalidRequestException {
        long forwarded = 0;
        try (ChatRequestInspector inspector = new ChatRequestInspector(alloc)) {
            boolean routed = false;
            for (ByteBuf piece : pieces) {
                inspector.feed(piece.duplicate());
                if (!routed && inspector.model() != null) {
                    inspector.rewriteModel("gpt-4o-mini-2024-07-18");
                    routed = true;
                }
                ByteBuf ready = inspector.drainReady(alloc);
                forwarded += ready.readableBytes();
                ready.release();
            }
            inspector.finish();
            ByteBuf tail = inspector.drainTail(alloc);
            forwarded += tail.readableBytes();
            tail.release();
        }
        return forwarded;
    }
}
