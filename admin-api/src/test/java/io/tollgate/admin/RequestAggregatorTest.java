package io.tollgate.admin;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class RequestAggregatorTest {

    @Test
    void anOversizedRequestGets413InTheErrorFormatAndTheConnectionCloses() {
        EmbeddedChannel channel = new EmbeddedChannel(new RequestAggregator(16, new Json()));
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/admin/v1/accounts");
        request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 17);

        channel.writeInbound(request);

        assertThat(channel.<Object>readInbound()).isNull();
        FullHttpResponse response = channel.readOutbound();
        assertThat(response.status().code()).isEqualTo(413);
        assertThat(response.headers().get(HttpResponses.REQUEST_ID)).startsWith("req_");
        assertThat(response.content().toString(StandardCharsets.UTF_8))
                .contains("\"code\":\"request_too_large\"", "\"type\":\"invalid_request_error\"");
        response.release();
        assertThat(channel.isOpen()).isFalse();
    }
}
