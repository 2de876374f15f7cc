package io.tollgate.proxy.mock;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;

/** The mock's whole pipeline: HTTP codec, head/body bookkeeping, aggregation, the fake provider. */
final class MockProviderInitializer extends ChannelInitializer<SocketChannel> {

    static final String CODEC = "codec";
    static final String TRACKER = "requestTracker";
    static final String AGGREGATOR = "aggregator";
    static final String PROVIDER = "provider";

    /** Far above the gateway's 512 KB limit, so the mock never refuses what the gateway forwards. */
    static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

    private final MockProvider.Options options;
    private final MockRecords records;
    private final ChannelGroup connections;
    // Trailing bytes after the JSON value are an error, as for OpenAI.
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private final ChatAnswers answers = new ChatAnswers();
    private final MockMedia media = new MockMedia(json);

    MockProviderInitializer(MockProvider.Options options, MockRecords records, ChannelGroup connections) {
        this.options = options;
        this.records = records;
        this.connections = connections;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        connections.add(ch);
        ChannelPipeline p = ch.pipeline();
        p.addLast(CODEC, new HttpServerCodec());
        // Before the aggregator: it alone sees a head whose body never completes.
        p.addLast(TRACKER, new RequestCompletionTracker(records));
        p.addLast(AGGREGATOR, new HttpObjectAggregator(MAX_BODY_BYTES));
        p.addLast(PROVIDER, new MockProviderHandler(options, records, json, answers, media));
    }
}
