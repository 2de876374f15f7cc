package io.tollgate.bench;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.tollgate.proxy.Transport;
import io.tollgate.proxy.mock.MockProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The bench's plain Netty relay, between a real HTTP client and the mock provider over loopback. */
class NettyRelayTest {

    private static final String CHAT = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    private MockProvider mock;
    private EventLoopGroup loops;
    private Channel relay;
    private HttpClient client;

    @BeforeEach
    void start() throws InterruptedException {
        mock = MockProvider.start("127.0.0.1", 0, MockProvider.Options.defaults());
        loops = NettyRelayMain.loops(Transport.auto(), 1, java.time.Duration.ZERO);
        relay = NettyRelayMain.listen(Transport.auto(), loops, "127.0.0.1", 0, mock.address());
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() {
        client.close();
        relay.close().syncUninterruptibly();
        loops.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        mock.close();
    }

    private HttpResponse<String> post(String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + ((InetSocketAddress) relay.localAddress()).getPort() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer x").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void relaysEachRequestAndItsAnswerUnchangedOverKeptAliveConnections() throws Exception {
        for (int i = 0; i < 20; i++) {
            String body = CHAT + ",\"max_tokens\":" + (i + 1) + "}";
            HttpResponse<String> r = post(body);

            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"usage\"", "\"completion_tokens\"");
            assertThat(mock.requests().getLast().bodyUtf8()).isEqualTo(body);
        }
        assertThat(mock.requests()).hasSize(20);
    }

    @Test
    void streamsAnSseAnswerThrough() throws Exception {
        HttpResponse<String> r = post(CHAT + ",\"stream\":true}", "x-mock-tokens", "7", "x-mock-chunk-delay-ms", "5");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).contains("text/event-stream"));
        assertThat(r.body().lines().filter(l -> l.startsWith("data: {"))).hasSizeGreaterThanOrEqualTo(7);
        assertThat(r.body()).contains("data: [DONE]");
    }

    @Test
    void passesA512KbUploadWhole() throws Exception {
        char[] filler = new char[524_288 - 64];
        Arrays.fill(filler, 'a');
        String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new String(filler) + "\"}]}";

        HttpResponse<String> r = post(body);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(mock.requests().getLast().body()).hasSize(body.length());
    }

    @Test
    void closesTheClientsConnectionWhenTheUpstreamIsNotThere() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        relay.close().syncUninterruptibly();
        relay = NettyRelayMain.listen(Transport.auto(), loops, "127.0.0.1", 0, new InetSocketAddress("127.0.0.1", closedPort));

        assertThatThrownBy(() -> post(CHAT + "}")).isInstanceOf(IOException.class);
    }
}
