package io.tollgate.proxy.chat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ChatRequestInspectorInFlightTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    /**
     * What was drained earlier may still wait in a channel's outbound buffer when the next piece
     * is drained: its bytes must not move or be freed by the inspector's later bookkeeping.
     */
    @Test
    void drainedPiecesKeepTheirBytesWhileLaterPiecesAreDrained() throws Exception {
        String body = "{\"model\":\"client-name\",\"messages\":[{\"role\":\"user\",\"content\":\"one two\"},"
                + "{\"role\":\"user\",\"content\":\"three four five\"},{\"role\":\"user\",\"content\":\"six\"}]}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        List<ByteBuf> drained = new ArrayList<>();
        try (ChatRequestInspector inspector = new ChatRequestInspector(ALLOC)) {
            for (int off = 0; off < bytes.length; off += 7) {
                ByteBuf piece = ALLOC.buffer().writeBytes(bytes, off, Math.min(7, bytes.length - off));
                inspector.feed(piece);
                piece.release();                          // as the frontend does after each chunk
                if (inspector.model() != null && drained.isEmpty()) {
                    inspector.rewriteModel("upstream-name");
                }
                if (inspector.model() != null) {
                    drained.add(inspector.drainReady(ALLOC));   // not read yet: still "in flight"
                }
            }
            inspector.finish();
            drained.add(inspector.drainTail(ALLOC));
        }
        StringBuilder sent = new StringBuilder();
        for (ByteBuf b : drained) {
            sent.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        assertThat(sent.toString()).isEqualTo(body.replace("client-name", "upstream-name"));
    }
}
