package io.tollgate.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class AdminAuthHandlerTest {

    private static final String TOKEN = "t0ken";

    private final EmbeddedChannel channel = new EmbeddedChannel(new AdminAuthHandler(TOKEN, new Json()));

    private static FullHttpRequest request(String authorization) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/admin/v1/accounts",
                Unpooled.copiedBuffer("{}", StandardCharsets.UTF_8));
        if (authorization != null) {
            request.headers().set(HttpHeaderNames.AUTHORIZATION, authorization);
        }
        return request;
    }

    @Test
    void passesARequestWithTheTokenOn() {
        FullHttpRequest request = request("Bearer " + TOKEN);

        channel.writeInbound(request);

        FullHttpRequest passed = channel.readInbound();
        assertThat(passed).isSameAs(request);
        assertThat(channel.<Object>readOutbound()).isNull();
        passed.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void answers401AndReleasesTheRequestWithoutTheToken() {
        for (String authorization : new String[]{null, "Bearer nope", "Token " + TOKEN}) {
            FullHttpRequest request = request(authorization);

            channel.writeInbound(request);

            assertThat(channel.<Object>readInbound()).isNull();
            assertThat(request.refCnt()).isZero();
            FullHttpResponse response = channel.readOutbound();
            assertThat(response.status().code()).isEqualTo(401);
            assertThat(response.headers().get(HttpResponses.REQUEST_ID)).startsWith("req_");
            assertThat(response.content().toString(StandardCharsets.UTF_8)).contains("\"code\":\"invalid_admin_token\"");
            response.release();
            assertThat(channel.isOpen()).isTrue();
        }
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void answers400AndClosesOnAMalformedRequest() {
        FullHttpRequest request = request("Bearer " + TOKEN);
        request.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("bad line")));

        channel.writeInbound(request);

        assertThat(request.refCnt()).isZero();
        FullHttpResponse response = channel.readOutbound();
        assertThat(response.status().code()).isEqualTo(400);
        assertThat(response.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
        response.release();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void comparesTheWholeToken() {
        AdminAuthHandler auth = new AdminAuthHandler(TOKEN, new Json());

        assertThat(auth.authorized("Bearer " + TOKEN)).isTrue();
        assertThat(auth.authorized("bearer " + TOKEN + " ")).isTrue();
        assertThat(auth.authorized("Bearer " + TOKEN + "x")).isFalse();
        assertThat(auth.authorized("Bearer " + TOKEN.substring(1))).isFalse();
        assertThat(auth.authorized("Bearer ")).isFalse();
        assertThat(auth.authorized(TOKEN)).isFalse();
        assertThat(auth.authorized(null)).isFalse();
    }
}
