package io.tollgate.proxy.chat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SseEventStreamTest {

    private static final String CHUNK = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n";
    private static final String USAGE = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18}}\n\n";
    private static final String DONE = "data: [DONE]\n\n";

    private static String pass(SseEventStream sse, String answer, int piece) {
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < bytes.length; i += piece) {
            ByteBuf in = Unpooled.wrappedBuffer(bytes, i, Math.min(piece, bytes.length - i));
            ByteBuf events = sse.process(in, ByteBufAllocator.DEFAULT);
            in.release();
            out.append(events.toString(StandardCharsets.UTF_8));
            events.release();
        }
        ByteBuf rest = sse.finish();
        out.append(rest.toString(StandardCharsets.UTF_8));
        rest.release();
        return out.toString();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 13, 1000})
    void theUsageChunkIsReadAndDroppedWhenTheClientDidNotAskForIt(int piece) {
        try (SseEventStream sse = new SseEventStream(true)) {
            String out = pass(sse, CHUNK + CHUNK + USAGE + DONE, piece);
            String plain = CHUNK.replace(",\"usage\":null", "");
            assertThat(out).isEqualTo(plain + plain + DONE);
            assertThat(sse.usage()).isEqualTo(new Usage(11, 7));
            assertThat(sse.dataEvents()).isEqualTo(3);          // [DONE] is no token
        }
    }

    @Test
    void theUsageChunkStaysWhenTheClientAskedForIt() {
        try (SseEventStream sse = new SseEventStream(false)) {
            assertThat(pass(sse, CHUNK + USAGE + DONE, 7)).isEqualTo(CHUNK + USAGE + DONE);
            assertThat(sse.usage()).isEqualTo(new Usage(11, 7));
        }
    }

    @Test
    void usageInsideAContentChunkIsReadButTheChunkIsNeverDropped() {
        String both = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\r\n\r\n";
        try (SseEventStream sse = new SseEventStream(true)) {
            assertThat(pass(sse, both + DONE, 5)).isEqualTo(both + DONE);
            assertThat(sse.usage()).isEqualTo(new Usage(1, 2));
        }
    }

    @Test
    void eachCompleteEventLeavesAsSoonAsItsBlankLineArrives() {
        try (SseEventStream sse = new SseEventStream(true)) {
            ByteBuf first = Unpooled.copiedBuffer(CHUNK + "data: {\"par", StandardCharsets.UTF_8);
            ByteBuf out = sse.process(first, ByteBufAllocator.DEFAULT);
            first.release();
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(CHUNK.replace(",\"usage\":null", ""));
            out.release();
            ByteBuf second = Unpooled.copiedBuffer("tial\":1}\n\n", StandardCharsets.UTF_8);
            out = sse.process(second, ByteBufAllocator.DEFAULT);
            second.release();
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("data: {\"partial\":1}\n\n");
            out.release();
        }
    }

    @Test
    void aChunkNamingUsageTwiceIsParsedAndKeepsItsNullMember() {
        String twice = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"usage\":null,\"extra\":{\"usage\":1}}\n\n";
        try (SseEventStream sse = new SseEventStream(true)) {
            assertThat(pass(sse, twice + DONE, 1000))
                    .isEqualTo(twice.replace(",\"usage\":null", "") + DONE);
            assertThat(sse.usage()).isNull();
            assertThat(sse.dataEvents()).isEqualTo(1);
        }
    }

    @Test
    void onlyAnEventWhosePayloadIsDoneEndsTheCount() {
        String mentions = "data: {\"choices\":[{\"delta\":{\"content\":\"[DONE]\"}}],\"usage\":null}\n\n";
        try (SseEventStream sse = new SseEventStream(true)) {
            String out = pass(sse, mentions + "data:[DONE]\n\n", 9);
            assertThat(out).isEqualTo(mentions.replace(",\"usage\":null", "") + "data:[DONE]\n\n");
            assertThat(sse.dataEvents()).isEqualTo(1);           // the content's text is a token; the end, without its space, is none
        }
    }

    @Test
    void eventsLongerThanTheScratchArrayAreCutTheSameWayFromDirectBuffers() {
        String content = "y".repeat(10_000) + "\\\"usage\\\":null";    // escaped quotes: text, not a key
        String chunk = "data: {\"choices\":[{\"delta\":{\"content\":\"" + content + "\"}}],\"usage\":null}\n\n";
        byte[] bytes = (chunk + CHUNK + USAGE + DONE).getBytes(StandardCharsets.UTF_8);
        try (SseEventStream sse = new SseEventStream(true)) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < bytes.length; i += 4000) {
                ByteBuf in = Unpooled.directBuffer(4000);
                in.writeBytes(bytes, i, Math.min(4000, bytes.length - i));
                ByteBuf events = sse.process(in, ByteBufAllocator.DEFAULT);
                in.release();
                out.append(events.toString(StandardCharsets.UTF_8));
                events.release();
            }
            String plain = CHUNK.replace(",\"usage\":null", "");
            assertThat(out.toString()).isEqualTo(chunk.replace("}],\"usage\":null}", "}]}") + plain + DONE);
            assertThat(sse.usage()).isEqualTo(new Usage(11, 7));
            assertThat(sse.dataEvents()).isEqualTo(3);
        }
    }

    @Test
    void findReportsTheFirstWholeOccurrenceWithinItsBounds() {
        byte[] b = "xxdatdata:data:".getBytes(StandardCharsets.US_ASCII);
        byte[] data = "data:".getBytes(StandardCharsets.US_ASCII);
        assertThat(SseEventStream.find(b, 0, b.length, data)).isEqualTo(5);
        assertThat(SseEventStream.find(b, 6, b.length, data)).isEqualTo(10);       // at the very end
        assertThat(SseEventStream.find(b, 6, b.length - 1, data)).isEqualTo(-1);   // cut by the bound
        assertThat(SseEventStream.find(b, 0, 4, data)).isEqualTo(-1);              // shorter than the needle
    }
}
