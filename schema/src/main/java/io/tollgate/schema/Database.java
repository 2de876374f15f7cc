package io.tollgate.schema;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;

import javax.sql.DataSource;

/** The pooled connection to PostgreSQL and the migrations that shape it. */
public final class Database implements AutoCloseable {

    /** Where to connect. {@code user} and {@code password} may be null when the URL carries them. */
    public record Config(String url, String user, String password, int maxPoolSize) {
        public Config {
            if (url == null || !url.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("database url must start with jdbc:postgresql: but was " + url);
            }
            if (maxPoolSize <= 0) {
                maxPoolSize = 10;
            }
        }

        public Config(String url, String user, String password) {
            this(url, user, password, 10);
        }
    }

    private final Config config;
    private final HikariDataSource dataSource;

    private Database(Config config, HikariDataSource dataSource) {
        this.config = config;
        this.dataSource = dataSource;
    }

    public static Database open(Config config) {
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(config.url());
        if (config.user() != null) {
            hikari.setUsername(config.user());
        }
        if (config.password() != null) {
            hikari.setPassword(config.password());
        }
        hikari.setMaximumPoolSize(config.maxPoolSize());
        // Batched inserts (the request log) go as multi-row INSERTs: one statement per batch.
        hikari.addDataSourceProperty("reWriteBatchedInserts", "true");
        hikari.setPoolName("tollgate-db");
        // Fail fast when the database is away: callers decide what to do, nobody waits 30 s.
        hikari.setConnectionTimeout(5_000);
        hikari.setInitializationFailTimeout(-1);
        return new Database(config, new HikariDataSource(hikari));
    }

    /** Applies every pending migration; safe to call on every start. */
    public MigrateResult migrate() {
        FluentConfiguration flyway = Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration");
        // Flyway's lock as a session advisory lock, not one held by a transaction kept open beside
        // the migration: a CREATE INDEX CONCURRENTLY (V8) waits for every open transaction to end,
        // so it would wait for Flyway's own forever.
        flyway.getConfigurationExtension(PostgreSQLConfigurationExtension.class).setTransactionalLock(false);
        return flyway.load().migrate();
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public Config config() {
        return config;
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
