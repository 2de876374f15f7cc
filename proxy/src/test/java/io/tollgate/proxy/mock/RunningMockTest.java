package io.tollgate.proxy.mock;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/** A fresh mock provider with the default options and a client of it for each test; no buffer may leak. */
@ExtendWith(NoLeaksExtension.class)
abstract class RunningMockTest {

    MockProvider mock;
    MockClient client;

    @BeforeEach
    void startMock() {
        mock = MockProvider.start("127.0.0.1", 0, MockProvider.Options.defaults());
        client = new MockClient(mock);
    }

    @AfterEach
    void stopMock() {
        mock.close();
    }
}
