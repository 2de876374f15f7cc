package io.tollgate.proxy.media;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Images counted in an answer, whole and split at every byte, however the upstream shapes it. */
class ImageCounterTest {

    static Stream<Arguments> answers() {
        return Stream.of(
                Arguments.of("{\"created\":1,\"data\":[{\"url\":\"https://x/1.png\"},{\"url\":\"https://x/2.png\"}]}", 2),
                Arguments.of("{\"data\":[]}", 0),
                Arguments.of("{\"created\":1}", 0),
                Arguments.of(" {\n \"data\" : [ {\"b64_json\":\"AAAA\"} , {\"b64_json\":\"BB\\\"]}\\\\\"} ] , \"x\":[{}]}", 2),
                // data nested deeper, or in a value, is not the answer's data
                Arguments.of("{\"meta\":{\"data\":[{},{}]},\"note\":\"\\\"data\\\":[{}]\",\"data\":[{\"url\":\"u\"}]}", 1),
                // elements holding arrays and objects of their own count once each
                Arguments.of("{\"data\":[{\"url\":\"u\",\"tags\":[{\"a\":[1,2]},3]},{\"url\":\"v\"}]}", 2),
                // a name that only starts like data, an escaped name
                Arguments.of("{\"database\":[{}],\"d\\u0061ta\":[{}],\"data\":[{}, {}, {}]}", 3),
                // scalar elements (not what providers send, but counted as elements)
                Arguments.of("{\"data\":[\"u1\", \"u2\", 3, null]}", 4),
                // not an object at the root
                Arguments.of("[{\"data\":[{}]}]", 0),
                // cut mid-way: only the complete ones
                Arguments.of("{\"data\":[{\"url\":\"u1\"},{\"url\":\"u2\"},{\"url\":\"u", 2),
                Arguments.of("{\"data\":[{\"url\":\"u1\"},\"half", 1));
    }

    @ParameterizedTest
    @MethodSource("answers")
    void countsTheCompleteElementsOfTheRootData(String json, long images) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        assertThat(count(bytes, bytes.length)).as("whole").isEqualTo(images);
        for (int split = 1; split < bytes.length; split++) {
            assertThat(count(bytes, split)).as("in pieces of %d", split).isEqualTo(images);
        }
        assertThat(count(bytes, 1)).as("byte by byte").isEqualTo(images);
    }

    private static long count(byte[] bytes, int piece) {
        ImageCounter counter = new ImageCounter();
        for (int i = 0; i < bytes.length; i += piece) {
            ByteBuf chunk = Unpooled.wrappedBuffer(bytes, i, Math.min(piece, bytes.length - i));
            counter.feed(chunk);
            chunk.release();
        }
        return counter.completed();
    }
}
