package io.tollgate.proxy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * The base of a test class that talks to one default {@link Gateway} through an account funded
 * with 100 credits: started before the class's first test, closed after its last, and the mock
 * provider reset before each test.
 */
abstract class FundedGatewayTest {

    static Gateway gw;
    static Gateway.Funded acct;

    @BeforeAll
    static void startGateway() {
        gw = new Gateway();
        acct = gw.fund("100");
    }

    @AfterAll
    static void stopGateway() {
        gw.close();
    }

    @BeforeEach
    void resetMock() {
        gw.mock.reset();
    }
}
