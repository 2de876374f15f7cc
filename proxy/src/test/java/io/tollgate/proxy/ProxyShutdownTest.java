package io.tollgate.proxy;

import io.tollgate.proxy.mock.NoLeaksExtension;
import io.tollgate.proxy.mock.RawHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Closing the proxy closes every connection it holds, the clients' and its pooled upstream
 * ones, and a second close does nothing. (ProxyServer closes them itself before its loops stop,
 * rather than leaving them to the loops' shutdown, because on io_uring a channel still open
 * then may never get its pending read's buffer back; which of the two closed them is not
 * visible from outside, so this test holds the outcome, and the suite's leak checks the rest.)
 */
@ExtendWith(NoLeaksExtension.class)
class ProxyShutdownTest {

    @Test
    void closingTheProxyClosesItsClientAndUpstreamConnections() throws Exception {
        try (Gateway gw = new Gateway()) {
            Gateway.Funded acct = gw.fund("100");
            try (RawSocket s = new RawSocket(gw.proxy.port())) {
                RawHttp.Response r = s.write(RawSocket.chat(acct.key(), Gateway.chatBody(Gateway.MODEL, false))).readResponse();
                assertThat(r.status()).as(r.bodyUtf8()).isEqualTo(200);
                assertThat(gw.mock.openConnections()).as("the pooled upstream connection").isEqualTo(1);

                gw.proxy.close();

                assertThat(s.closedByPeer()).isTrue();
                await().atMost(Duration.ofSeconds(5)).until(() -> gw.mock.openConnections() == 0);
                gw.proxy.close(); // a second close does nothing
            }
        }
    }
}
