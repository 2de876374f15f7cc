package io.tollgate.proxy.media;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.proxy.chat.InvalidRequestException;
import io.tollgate.proxy.http.ApiError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MediaRequestTest {

    private static final MediaConfig CONFIG = MediaConfig.defaults().withVideoSeconds(BigDecimal.valueOf(5), BigDecimal.valueOf(60));

    private static MediaRequest image(String json) throws InvalidRequestException {
        return MediaRequest.parse(json.getBytes(StandardCharsets.UTF_8), MediaRoute.Kind.IMAGE_GENERATION, CONFIG);
    }

    private static MediaRequest video(String json) throws InvalidRequestException {
        return MediaRequest.parse(json.getBytes(StandardCharsets.UTF_8), MediaRoute.Kind.VIDEO_GENERATION, CONFIG);
    }

    @Test
    void anImageRequestDefaultsToOneImageAnsweredAtOnce() throws Exception {
        MediaRequest r = image("{\"model\":\"m\",\"prompt\":\"a cat\"}");
        assertThat(r.n()).isEqualTo(1);
        assertThat(r.async()).isFalse();
        assertThat(r.seconds()).isNull();

        MediaRequest three = image("{\"model\":\"m\",\"prompt\":\"a cat\",\"n\":3,\"async\":true}");
        assertThat(three.n()).isEqualTo(3);
        assertThat(three.async()).isTrue();
    }

    @Test
    void theUpstreamGetsItsOwnModelAndNoAsync() throws Exception {
        MediaRequest r = image("{\"model\":\"m\",\"prompt\":\"a cat\",\"async\":true,\"size\":\"1024x1024\"}");
        var sent = new ObjectMapper().readTree(r.upstreamBody("dall-e-3"));
        assertThat(sent.get("model").asText()).isEqualTo("dall-e-3");
        assertThat(sent.has("async")).isFalse();
        assertThat(sent.get("size").asText()).isEqualTo("1024x1024");
        assertThat(r.body().get("model").asText()).isEqualTo("m");      // the original is left as it was
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"prompt\":\"x\"}                           | model_required",
            "{\"model\":\"\",\"prompt\":\"x\"}            | model_required",
            "{\"model\":\"m\"}                            | prompt_required",
            "{\"model\":\"m\",\"prompt\":null}            | prompt_required",
            "{\"model\":7,\"prompt\":\"x\"}               | invalid_request",
            "{\"model\":\"m\",\"prompt\":[\"x\"]}         | invalid_request",
            "{\"model\":\"m\",\"prompt\":\"x\",\"n\":0}   | invalid_request",
            "{\"model\":\"m\",\"prompt\":\"x\",\"n\":1.5} | invalid_request",
            "{\"model\":\"m\",\"prompt\":\"x\",\"async\":\"yes\"} | invalid_request",
            "{\"model\":\"m\",\"model\":\"n\",\"prompt\":\"x\"}   | invalid_request",
            "{\"model\":\"m\",\"prompt\":\"x\"} trailing  | invalid_request",
            "[1]                                          | invalid_request",
            "not json                                     | invalid_request"})
    void refusesWhatIsMissingOrMalformed(String json, String code) {
        assertThatThrownBy(() -> image(json)).isInstanceOfSatisfying(InvalidRequestException.class,
                e -> assertThat(e.error().code()).isEqualTo(code));
    }

    @Test
    void anEmptyBodyIsInvalid() {
        assertThatThrownBy(() -> image("")).isInstanceOfSatisfying(InvalidRequestException.class,
                e -> assertThat(e.error()).isEqualTo(ApiError.INVALID_REQUEST));
    }

    @Test
    void aVideoReservesItsDurationOrTheDefault() throws Exception {
        assertThat(video("{\"model\":\"v\",\"prompt\":\"x\"}").seconds()).isEqualByComparingTo("5");
        assertThat(video("{\"model\":\"v\",\"prompt\":\"x\",\"duration\":8}").seconds()).isEqualByComparingTo("8");
        assertThat(video("{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":\"12\"}").seconds()).isEqualByComparingTo("12");
        assertThat(video("{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":\"4\",\"duration\":6.5}").seconds())
                .isEqualByComparingTo("6.5");                 // both named: the larger is reserved
        assertThat(video("{\"model\":\"v\",\"prompt\":\"x\",\"resolution\":\"720p\",\"size\":\"1280x720\"}").resolutions())
                .isEqualTo(List.of("720p", "1280x720"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"model\":\"v\",\"prompt\":\"x\",\"duration\":0}",
            "{\"model\":\"v\",\"prompt\":\"x\",\"duration\":-3}",
            "{\"model\":\"v\",\"prompt\":\"x\",\"duration\":61}",
            "{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":\"ten\"}",
            "{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":true}",
            "{\"model\":\"v\",\"prompt\":\"x\",\"resolution\":720}"})
    void refusesABadDurationOrResolution(String json) {
        assertThatThrownBy(() -> video(json)).isInstanceOfSatisfying(InvalidRequestException.class,
                e -> assertThat(e.error()).isEqualTo(ApiError.INVALID_REQUEST));
    }
}
