package io.tollgate.proxy;

import io.tollgate.proxy.mock.NoLeaksExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;

import static io.tollgate.proxy.ApiErrors.assertError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** SPEC section 4: a revoked key is refused by every proxy within 1 s (carried by LISTEN/NOTIFY). */
@ExtendWith(NoLeaksExtension.class)
class RevocationTest {

    static Gateway gw;

    @BeforeAll
    static void start() {
        gw = new Gateway();
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @Test
    void revokedKeyIsRefusedWithinOneSecond() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String body = Gateway.chatBody(Gateway.MODEL, false);
        assertThat(gw.chat(f.key(), body).statusCode()).isEqualTo(200);

        assertThat(gw.keys.revoke(f.keyId())).isTrue();
        long revokedAt = System.nanoTime();
        await().atMost(Duration.ofSeconds(1)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
                .until(() -> gw.chat(f.key(), body).statusCode() == 401);
        Duration took = Duration.ofNanos(System.nanoTime() - revokedAt);

        assertThat(took).isLessThan(Duration.ofSeconds(1));
        HttpResponse<String> refused = gw.chat(f.key(), body);
        assertError(refused, 401, "invalid_api_key", "authentication_error");
    }

    @Test
    void otherKeysOfTheAccountKeepWorking() throws Exception {
        Gateway.Funded f = gw.fund("10");
        String other = gw.key(f.accountId(), null, null);

        gw.keys.revoke(f.keyId());
        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20))
                .until(() -> gw.chat(f.key(), Gateway.chatBody(Gateway.MODEL, false)).statusCode() == 401);

        assertThat(gw.chat(other, Gateway.chatBody(Gateway.MODEL, false)).statusCode()).isEqualTo(200);
    }
}
