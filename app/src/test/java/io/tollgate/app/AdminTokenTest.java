package io.tollgate.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

class AdminTokenTest {

    @TempDir
    Path dataDir;

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

    @Test
    void generatedOnFirstStartPrintedOnceAndReused() throws Exception {
        String first = AdminToken.resolve(null, dataDir, out);

        assertThat(first).startsWith("tga-").hasSize(4 + 40);
        Path file = dataDir.resolve("admin-token");
        assertThat(Files.readString(file).strip()).isEqualTo(first);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("admin token (shown once): " + first);

        printed.reset();
        String second = AdminToken.resolve(null, dataDir, out);

        assertThat(second).isEqualTo(first);
        assertThat(printed.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aConfiguredTokenWinsAndNothingIsWritten() {
        AdminToken.resolve(null, dataDir, out);
        printed.reset();

        assertThat(AdminToken.resolve("tga-mine", dataDir, out)).isEqualTo("tga-mine");
        assertThat(printed.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aConfiguredTokenLeavesNoFile() {
        AdminToken.resolve("tga-mine", dataDir, out);

        assertThat(dataDir.resolve("admin-token")).doesNotExist();
    }

    @Test
    void aTokenPutInTheFileByHandIsUsed() throws Exception {
        Files.writeString(dataDir.resolve("admin-token"), "  tga-by-hand\n");

        assertThat(AdminToken.resolve(null, dataDir, out)).isEqualTo("tga-by-hand");
    }

    @Test
    void theDataDirIsCreatedWhenMissing() {
        Path nested = dataDir.resolve("a/b");

        String token = AdminToken.resolve(null, nested, out);

        assertThat(nested.resolve("admin-token")).hasContent(token);
    }
}
