package io.tollgate.proxy;

import io.tollgate.proxy.mock.NoLeaksExtension;
import io.tollgate.proxy.mock.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static io.tollgate.proxy.ApiErrors.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client idle timeout over real sockets: an idle keep-alive connection is closed between one
 * and two periods after its last activity, never sooner; a request body that stalls gets 408; a
 * response streaming longer than the period is not cut, and the connection stays usable.
 */
@ExtendWith(NoLeaksExtension.class)
class ClientIdleTest {

    private static final Duration IDLE = Duration.ofMillis(400);

    static Gateway gw;
    static Gateway.Funded acct;

    @BeforeAll
    static void start() {
        gw = new Gateway(Gateway.config().withClientIdleTimeout(IDLE));
        acct = gw.fund("100");
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @BeforeEach
    void resetMock() {
        gw.mock.reset();
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedNoSoonerThanThePeriodAfterItsAnswer() throws Exception {
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            RawHttp.Response r = s.write(RawSocket.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, false))).readResponse();
            assertThat(r.status()).as(r.bodyUtf8()).isEqualTo(200);
            long answered = System.nanoTime();

            assertThat(s.closedByPeer()).isTrue();
            long idleMillis = (System.nanoTime() - answered) / 1_000_000;
            assertThat(idleMillis).isGreaterThanOrEqualTo(IDLE.toMillis() - 20)
                    .isLessThan(2 * IDLE.toMillis() + 1_000);
        }
    }

    @Test
    void aStalledBodyGets408() throws Exception {
        String request = RawSocket.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, false));
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            s.write(request.substring(0, request.length() - 10));   // the last bytes never come

            assertError(s.readResponse(), 408, "request_timeout", "invalid_request_error");
        }
        assertThat(gw.mock.requests()).isEmpty();
    }

    @Test
    void aStreamLongerThanThePeriodIsNotCutAndTheConnectionStaysUsable() throws Exception {
        // 12 chunks 100 ms apart: the client sends nothing for three periods while it is answered.
        String slow = RawSocket.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, true),
                "x-mock-tokens: 12", "x-mock-chunk-delay-ms: 100");
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            long start = System.nanoTime();
            RawHttp.Response stream = s.write(slow).readResponse();
            assertThat(stream.status()).isEqualTo(200);
            assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThan(2 * IDLE.toMillis());
            assertThat(new String(stream.body(), StandardCharsets.UTF_8)).endsWith("data: [DONE]\n\n");

            RawHttp.Response next = s.write(RawSocket.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, false))).readResponse();
            assertThat(next.status()).as(next.bodyUtf8()).isEqualTo(200);
        }
    }

    @Test
    void afterALongStreamTheConnectionStaysOpenAWholePeriod() throws Exception {
        // 13 chunks 100 ms apart: the stream ends between two checks of the reader-idle timer.
        String slow = RawSocket.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, true),
                "x-mock-tokens: 13", "x-mock-chunk-delay-ms: 100");
        try (RawSocket s = new RawSocket(gw.proxy.port())) {
            assertThat(s.write(slow).readResponse().status()).isEqualTo(200);
            long ended = System.nanoTime();

            assertThat(s.closedByPeer()).isTrue();
            assertThat((System.nanoTime() - ended) / 1_000_000).isGreaterThanOrEqualTo(IDLE.toMillis() - 20);
        }
    }
}
