package io.tollgate.bench;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.assertj.core.api.Assertions.assertThat;

class MockUpstreamMainTest {

    @Test
    void defaultsMatchTheBenchmarkSetup() {
        MockUpstreamMain main = new MockUpstreamMain();
        new CommandLine(main).parseArgs();

        assertThat(main.host).isEqualTo("127.0.0.1");
        assertThat(main.port).isEqualTo(9999);
        assertThat(main.tokens).isEqualTo(16);
        assertThat(main.chunkDelayMs).isZero();
        assertThat(main.firstByteDelayMs).isZero();
        assertThat(main.apiKey).isNull();
        assertThat(main.forgetEveryMs).isEqualTo(100);
    }

    @Test
    void parsesEveryOption() {
        MockUpstreamMain main = new MockUpstreamMain();
        new CommandLine(main).parseArgs("--host", "0.0.0.0", "--port", "0", "--tokens", "4",
                "--chunk-delay-ms", "20", "--first-byte-delay-ms", "150", "--api-key", "sk-up", "--threads", "3",
                "--forget-every-ms", "0");

        assertThat(main.host).isEqualTo("0.0.0.0");
        assertThat(main.port).isZero();
        assertThat(main.tokens).isEqualTo(4);
        assertThat(main.chunkDelayMs).isEqualTo(20);
        assertThat(main.firstByteDelayMs).isEqualTo(150);
        assertThat(main.apiKey).isEqualTo("sk-up");
        assertThat(main.threads).isEqualTo(3);
        assertThat(main.forgetEveryMs).isZero();
    }

    @Test
    void isTheMockUpstreamCommand() {
        assertThat(new CommandLine(new MockUpstreamMain()).getCommandName()).isEqualTo("mock-upstream");
    }
}
