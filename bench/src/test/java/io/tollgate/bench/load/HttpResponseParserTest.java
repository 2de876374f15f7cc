package io.tollgate.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HttpResponseParserTest {

    /** Records what the parser reports, as text. */
    static final class Log implements HttpResponseParser.Listener {
        final List<String> events = new ArrayList<>();
        final StringBuilder body = new StringBuilder();

        @Override
        public void onHead(int status) {
            events.add("head " + status);
        }

        @Override
        public void onBody(ByteBuf buf, int index, int length) {
            body.append(buf.toString(index, length, StandardCharsets.ISO_8859_1));
        }

        @Override
        public void onComplete(int status, boolean keepAlive) {
            events.add("done " + status + (keepAlive ? " keep-alive" : " close") + " body=" + body);
            body.setLength(0);
        }
    }

    static final String CONTENT_LENGTH = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}";
    static final String CHUNKED = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "7\r\ndata: 1\r\n2;ext=1\r\n\n\n\r\nC\r\ndata: [DONE]\r\n0\r\nX-Trailer: y\r\n\r\n";

    @Test
    void readsAContentLengthResponseHoweverTheReadsSplitIt() {
        for (int cut = 0; cut <= CONTENT_LENGTH.length(); cut++) {
            Log log = new Log();
            HttpResponseParser p = new HttpResponseParser(log);
            p.feed(buf(CONTENT_LENGTH.substring(0, cut)));
            p.feed(buf(CONTENT_LENGTH.substring(cut)));
            assertThat(log.events).as("cut at %d", cut).containsExactly("head 200", "done 200 keep-alive body={\"ok\":true}");
            assertThat(p.inMessage()).isFalse();
        }
    }

    @Test
    void decodesChunksAndSkipsTrailersByteByByte() {
        Log log = new Log();
        HttpResponseParser p = new HttpResponseParser(log);
        for (char c : CHUNKED.toCharArray()) {
            p.feed(buf(String.valueOf(c)));
        }
        assertThat(log.events).containsExactly("head 200", "done 200 keep-alive body=data: 1\n\ndata: [DONE]");
    }

    @Test
    void readsBackToBackResponsesAndSkipsInterimOnes() {
        Log log = new Log();
        HttpResponseParser p = new HttpResponseParser(log);
        p.feed(buf("HTTP/1.1 100 Continue\r\n\r\n" + CONTENT_LENGTH
                + "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        assertThat(log.events).containsExactly("head 200", "done 200 keep-alive body={\"ok\":true}",
                "head 429", "done 429 close body=");
    }

    @Test
    void aBodyWithoutLengthEndsWithTheConnection() {
        Log log = new Log();
        HttpResponseParser p = new HttpResponseParser(log);
        p.feed(buf("HTTP/1.0 200 OK\r\n\r\nsome"));
        p.feed(buf(" bytes"));
        assertThat(p.closed()).isFalse();
        assertThat(log.events).containsExactly("head 200", "done 200 close body=some bytes");
    }

    @Test
    void aCutResponseIsReportedAsCut() {
        HttpResponseParser p = new HttpResponseParser(new Log());
        p.feed(buf("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
        assertThat(p.closed()).isTrue();
    }

    @Test
    void refusesWhatIsNotHttp() {
        HttpResponseParser p = new HttpResponseParser(new Log());
        assertThatThrownBy(() -> p.feed(buf("SSH-2.0-nope\r\n"))).isInstanceOf(HttpResponseParser.ParseException.class);
    }

    static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }
}
