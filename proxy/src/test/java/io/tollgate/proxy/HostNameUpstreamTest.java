package io.tollgate.proxy;

import io.tollgate.schema.Upstream;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** An upstream named by host name is resolved by the non-blocking resolver (hosts file included). */
class HostNameUpstreamTest {

    @Test
    void anUpstreamAtLocalhostIsReached() throws Exception {
        try (Gateway gw = new Gateway()) {
            Upstream named = gw.upstreams.create("named", "openai", "http://localhost:" + gw.mock.port() + "/v1",
                    Gateway.UPSTREAM_KEY, 1, 0, true);
            gw.putModel("named-chat", named, "mock-model", true, true);
            gw.awaitModels("named-chat");
            Gateway.Funded f = gw.fund("10");

            HttpResponse<String> r = gw.chat(f.key(), Gateway.chatBody("named-chat", false));

            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(gw.mock.requests().get(0).headers().get("host")).isEqualTo("localhost:" + gw.mock.port());
        }
    }
}
