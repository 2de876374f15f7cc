package io.tollgate.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SseScannerTest {

    static final String STREAM = "data: {\"a\":1}\n\n: comment with data: inside\n\nevent: x\r\ndata: {\"b\":2}\r\n\r\ndata: [DONE]\n\n";

    @Test
    void countsEachDataLineOnceWhereverTheReadsSplitIt() {
        for (int cut = 0; cut <= STREAM.length(); cut++) {
            SseScanner s = new SseScanner();
            int n = scan(s, STREAM.substring(0, cut)) + scan(s, STREAM.substring(cut));
            assertThat(n).as("cut at %d", cut).isEqualTo(3);
        }
    }

    @Test
    void countsAnEventWhenItsPrefixIsComplete() {
        SseScanner s = new SseScanner();
        assertThat(scan(s, "dat")).isZero();
        assertThat(scan(s, "a:")).isOne();
        assertThat(scan(s, " more of the same event, data: not a new one")).isZero();
    }

    private static int scan(SseScanner s, String text) {
        ByteBuf b = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        return s.scan(b, b.readerIndex(), b.readableBytes());
    }
}
