package io.tollgate.app;

import io.tollgate.schema.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class MigrateCommandTest {

    @TempDir
    Path dataDir;

    private TestDatabase db;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void freshDatabase() throws Exception {
        db = TestDatabase.create();
        // TestDatabase comes migrated; start from an empty schema so there is something to apply.
        try (Connection c = db.database().dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA public CASCADE");
            s.execute("CREATE SCHEMA public");
        }
    }

    @AfterEach
    void dropDatabase() {
        db.close();
    }

    @Test
    void migratesAFreshDatabaseOnceAndExitsZero() throws Exception {
        Map<String, String> env = Map.of("TOLLGATE_DATABASE_URL", db.url(), "TOLLGATE_DATA_DIR", dataDir.toString());

        int first = run(env, "migrate");

        assertThat(first).as(err.toString(StandardCharsets.UTF_8)).isZero();
        long applied = scalar("SELECT count(*) FROM flyway_schema_history WHERE success");
        assertThat(applied).isPositive();
        assertThat(output()).contains("applied " + applied + " migration");
        assertThat(scalar("SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                + "('accounts', 'api_keys', 'upstreams', 'models', 'model_routes', 'ledger', 'request_log')"))
                .isEqualTo(7);

        out.reset();
        int second = run(env, "migrate");

        assertThat(second).isZero();
        assertThat(output()).contains("applied 0 migrations");
    }

    @Test
    void takesTheDatabaseFromTheConfigFileBeforeOrAfterTheSubcommand() throws Exception {
        Path file = Files.writeString(dataDir.resolve("tollgate.yaml"),
                "database:\n  url: \"" + db.url() + "\"\ndata_dir: \"" + dataDir + "\"\n");

        assertThat(run(Map.of(), "--config", file.toString(), "migrate")).isZero();
        assertThat(output()).containsPattern("applied [1-9][0-9]* migrations?;").doesNotContain("embedded");
        assertThat(run(Map.of(), "migrate", "--config", file.toString())).isZero();
        assertThat(output()).contains("applied 0 migrations");
    }

    @Test
    void aConfigurationErrorExitsTwoAndSaysWhy() {
        int code = run(Map.of("TOLLGATE_DATA_DIR", dataDir.toString()),
                "--config", dataDir.resolve("missing.yaml").toString(), "migrate");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("config file not found");
    }

    @Test
    void anUnreachableDatabaseExitsOneAndSaysWhere() {
        int code = run(Map.of("TOLLGATE_DATABASE_URL", "jdbc:postgresql://127.0.0.1:1/nowhere?user=x",
                "TOLLGATE_DATA_DIR", dataDir.toString()), "migrate");

        assertThat(code).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("cannot migrate the database at jdbc:postgresql://127.0.0.1:1/nowhere")
                .doesNotContain("user=x");
    }

    private int run(Map<String, String> env, String... args) {
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        return Tollgate.commandLine(env, o, e).execute(args);
    }

    private String output() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private long scalar(String sql) throws Exception {
        try (Connection c = db.database().dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
