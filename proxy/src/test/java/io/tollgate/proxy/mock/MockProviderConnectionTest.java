package io.tollgate.proxy.mock;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.tollgate.proxy.mock.MockClient.CHAT;
import static io.tollgate.proxy.mock.MockClient.STREAM_WITH_USAGE;
import static io.tollgate.proxy.mock.MockClient.events;
import static io.tollgate.proxy.mock.MockClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Connection-level behaviour: keep-alive, pipelining, bodies that never complete, lifecycle. */
@ExtendWith(NoLeaksExtension.class)
class MockProviderConnectionTest {

    private MockProvider mock;

    @BeforeEach
    void start() {
        mock = MockProvider.start("127.0.0.1", 0, MockProvider.Options.defaults());
    }

    @AfterEach
    void stop() {
        mock.close();
    }

    @Test
    void keepsTheConnectionAliveAcrossRequests() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            RawHttp.Response first = raw.send(RawHttp.chatRequest(CHAT)).readResponse();
            RawHttp.Response second = raw.send(RawHttp.chatRequest(STREAM_WITH_USAGE, "x-mock-tokens: 2")).readResponse();
            RawHttp.Response third = raw.send(RawHttp.chatRequest(CHAT)).readResponse();

            assertThat(first.status()).isEqualTo(200);
            assertThat(first.headers()).doesNotContainKey("connection");
            assertThat(json(first.bodyUtf8()).path("id").asText()).isEqualTo("chatcmpl-1");
            assertThat(second.status()).isEqualTo(200);
            assertThat(events(second.bodyUtf8())).hasSize(2 + 1 + 1);
            assertThat(json(third.bodyUtf8()).path("id").asText()).isEqualTo("chatcmpl-3");
        }
        assertThat(mock.headsReceived()).isEqualTo(3);
        assertThat(mock.incompleteRequests()).isZero();
        assertThat(mock.reportedUsages()).hasSize(3);
    }

    @Test
    void keepsTheConnectionAliveAfterAnError() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            assertThat(raw.send(RawHttp.chatRequest("{", "x-mock-tokens: 2")).readResponse().status()).isEqualTo(400);
            assertThat(raw.send(RawHttp.chatRequest(CHAT, "x-mock-status: 503")).readResponse().status()).isEqualTo(503);
            assertThat(raw.send(RawHttp.chatRequest(CHAT)).readResponse().status()).isEqualTo(200);
        }
    }

    @Test
    void answersPipelinedRequestsInOrder() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(STREAM_WITH_USAGE, "x-mock-tokens: 3", "x-mock-chunk-delay-ms: 50")
                    + RawHttp.chatRequest(CHAT, "x-mock-tokens: 1"));

            RawHttp.Response stream = raw.readResponse();
            RawHttp.Response plain = raw.readResponse();

            assertThat(events(stream.bodyUtf8())).hasSize(3 + 1 + 1);
            assertThat(json(events(stream.bodyUtf8()).getFirst()).path("id").asText()).isEqualTo("chatcmpl-1");
            assertThat(json(plain.bodyUtf8()).path("id").asText()).isEqualTo("chatcmpl-2");
        }
    }

    @Test
    void closesAfterTheAnswerWhenTheClientAsks() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            RawHttp.Response response = raw.send(RawHttp.chatRequest(CHAT, "Connection: close")).readResponse();

            assertThat(response.status()).isEqualTo(200);
            assertThat(response.headers()).containsEntry("connection", "close");
            assertThat(raw.read()).isEqualTo(-1);
        }
    }

    @Test
    void countsAConnectionClosedBeforeTheBodyWasComplete() throws Exception {
        try (Socket socket = new Socket(mock.address().getAddress(), mock.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer k\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\":").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            await().atMost(Duration.ofSeconds(5)).until(() -> mock.headsReceived() == 1);
        }

        await().atMost(Duration.ofSeconds(5)).until(() -> mock.incompleteRequests() == 1);
        assertThat(mock.requests()).isEmpty();
        assertThat(mock.reportedUsages()).isEmpty();
    }

    @Test
    void doesNotCountAConnectionClosedBetweenRequests() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(CHAT)).readResponse();
        }
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(CHAT)).readResponse();
        }
        // A third connection that does finish its body proves the first two were processed.
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(CHAT, "Connection: close")).readResponse();
            assertThat(raw.read()).isEqualTo(-1);
        }

        assertThat(mock.headsReceived()).isEqualTo(3);
        assertThat(mock.incompleteRequests()).isZero();
    }

    @Test
    void stopsStreamingWhenTheClientLeaves() throws Exception {
        try (RawHttp raw = new RawHttp(mock.address())) {
            raw.send(RawHttp.chatRequest(STREAM_WITH_USAGE, "x-mock-tokens: 50", "x-mock-chunk-delay-ms: 20"));
            assertThat(raw.read()).isEqualTo('H');
        }

        // The whole stream would take a second; its usage chunk must never be written.
        await().during(Duration.ofMillis(1_200)).atMost(Duration.ofSeconds(3))
                .until(() -> mock.reportedUsages().isEmpty());
    }

    @Test
    void runsOnACallersEventLoopGroupAndLeavesItRunning() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            MockProvider shared = MockProvider.start(group, "127.0.0.1", 0, MockProvider.Options.defaults());
            try (RawHttp raw = new RawHttp(shared.address())) {
                assertThat(raw.send(RawHttp.chatRequest(CHAT)).readResponse().status()).isEqualTo(200);
            } finally {
                shared.close();
            }
            assertThat(group.isShuttingDown()).isFalse();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void closeIsIdempotent() {
        mock.close();
        mock.close();
    }
}
