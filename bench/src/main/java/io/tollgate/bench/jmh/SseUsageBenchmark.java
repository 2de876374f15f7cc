package io.tollgate.bench.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.tollgate.proxy.chat.SseEventStream;
import io.tollgate.proxy.chat.Usage;
import io.tollgate.proxy.chat.UsageTap;
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

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The answer side of metering: a whole SSE answer ({@code chunks} content events, the usage
 * chunk, [DONE]) through {@link SseEventStream}, one event per read as a streaming upstream
 * delivers them, the usage chunk hidden; and a non-streamed completion through {@link UsageTap}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SseUsageBenchmark {

    @Param({"100"})
    int chunks;

    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    private ByteBuf answer;
    private ByteBuf[] events;
    private ByteBuf completion;

    @Setup
    public void setup() {
        StringBuilder sb = new StringBuilder();
        int[] bounds = new int[chunks + 3];
        for (int i = 0; i < chunks; i++) {
            sb.append(Samples.chunkEvent(i, i == chunks - 1));
            bounds[i + 1] = sb.length();
        }
        sb.append(Samples.usageEvent(chunks));
        bounds[chunks + 1] = sb.length();
        sb.append("data: [DONE]\n\n");
        bounds[chunks + 2] = sb.length();
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        answer = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        events = new ByteBuf[chunks + 2];
        for (int i = 0; i < events.length; i++) {
            events[i] = answer.slice(bounds[i], bounds[i + 1] - bounds[i]);
        }
        byte[] c = Samples.completion();
        completion = PooledByteBufAllocator.DEFAULT.directBuffer(c.length).writeBytes(c);
    }

    @TearDown
    public void tearDown() {
        answer.release();
        completion.release();
    }

    /** Per answer: every event cut out and forwarded, usage read from the last chunk, which is dropped. */
    @Benchmark
    public long sseAnswer() {
        long forwarded = 0;
        try (SseEventStream stream = new SseEventStream(true)) {
            for (ByteBuf event : events) {
                ByteBuf out = stream.process(event.duplicate(), alloc);
                forwarded += out.readableBytes();
                out.release();
            }
            ByteBuf rest = stream.finish();
            forwarded += rest.readableBytes();
            rest.release();
            return forwarded + stream.usage().outputTokens();
        }
    }

    /** Per answer: a ~1 KB chat.completion watched for its usage. */
    @Benchmark
    public Usage usageTapCompletion() {
        UsageTap tap = new UsageTap();
        tap.feed(completion.duplicate());
        tap.end();
        return tap.usage();
    }
}
