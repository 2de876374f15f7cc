package io.tollgate.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The embedded PostgreSQL: real binaries, started as whoever runs the build (root included). */
class EmbeddedDatabaseTest {

    @TempDir
    Path dataDir;

    @Test
    void migrateWithoutADatabaseUrlUsesTheEmbeddedOneWhoseDataSurvivesARestart() {
        Map<String, String> env = Map.of("TOLLGATE_DATA_DIR", dataDir.toString());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);

        assertThat(Tollgate.commandLine(env, o, e).execute("migrate")).as(err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("embedded PostgreSQL").containsPattern("applied [1-9][0-9]* migrations?;");

        out.reset();
        assertThat(Tollgate.commandLine(env, o, e).execute("migrate")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("applied 0 migrations");
        assertThat(dataDir.resolve("pg/PG_VERSION")).exists();
    }

    @Test
    void aSecondServerOnTheSameDataDirIsRefused() throws Exception {
        try (EmbeddedDatabase first = EmbeddedDatabase.start(dataDir)) {
            try (Connection c = DriverManager.getConnection(first.jdbcUrl());
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_database()")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("tollgate");
            }

            assertThatThrownBy(() -> EmbeddedDatabase.start(dataDir))
                    .hasMessageContaining("another Tollgate process uses the data dir");
        }
    }
}
