package io.tollgate.schema;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A migrated database of its own for one test class, on the PostgreSQL the machine runs
 * ({@code TOLLGATE_TEST_PG}, default {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}).
 * Dropped on close, so parallel runs never collide.
 */
public final class TestDatabase implements AutoCloseable {

    private static final String ADMIN_URL = System.getenv().getOrDefault(
            "TOLLGATE_TEST_PG", "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");

    private final String name;
    private final String url;
    private final Database database;

    private TestDatabase(String name, String url, Database database) {
        this.name = name;
        this.url = url;
        this.database = database;
    }

    public static TestDatabase create() {
        TestDatabase db = createEmpty();
        db.database.migrate();
        return db;
    }

    /** A database of its own with no migration applied yet. */
    public static TestDatabase createEmpty() {
        String name = "tg_test_" + Ids.random(10).toLowerCase();
        execAdmin("CREATE DATABASE " + name);
        String url = ADMIN_URL.replaceFirst("/[A-Za-z0-9_]+(\\?|$)", "/" + name + "$1");
        return new TestDatabase(name, url, Database.open(new Database.Config(url, null, null, 8)));
    }

    public Database database() {
        return database;
    }

    /** The JDBC URL of this test's database. */
    public String url() {
        return url;
    }

    @Override
    public void close() {
        database.close();
        execAdmin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    private static void execAdmin(String sql) {
        try (Connection c = DriverManager.getConnection(ADMIN_URL); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("test PostgreSQL at " + ADMIN_URL + " failed: " + sql, e);
        }
    }
}
