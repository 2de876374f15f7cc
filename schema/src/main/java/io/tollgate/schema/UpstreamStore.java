package io.tollgate.schema;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Provider endpoints the gateway forwards to. */
public final class UpstreamStore {

    private static final String COLUMNS = "id, name, provider, base_url, api_key, weight, priority, enabled, created_at";
    /** PostgreSQL's foreign_key_violation. */
    private static final String FOREIGN_KEY_VIOLATION = "23503";

    private final DataSource ds;

    public UpstreamStore(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    /** Changes to an upstream; a null field leaves it as it is. */
    public record Patch(String name, String provider, String baseUrl, String apiKey, Integer weight, Integer priority,
                        Boolean enabled) {
    }

    /** A model still routes to the upstream, so it cannot be deleted. */
    public static final class UpstreamInUseException extends RuntimeException {

        public UpstreamInUseException(String message) {
            super(message);
        }
    }

    public Upstream create(String name, String provider, String baseUrl, String apiKey, int weight, int priority,
                           boolean enabled) {
        String id = Ids.newId("ups");
        return Jdbc.withConnection(ds, "create upstream", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO upstreams (id, name, provider, base_url, api_key, weight, priority, enabled)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING " + COLUMNS)) {
                ps.setString(1, id);
                ps.setString(2, name);
                ps.setString(3, provider);
                ps.setString(4, baseUrl);
                ps.setString(5, apiKey == null ? "" : apiKey);
                ps.setInt(6, weight);
                ps.setInt(7, priority);
                ps.setBoolean(8, enabled);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return map(rs);
                }
            }
        });
    }

    public Optional<Upstream> find(String id) {
        return Jdbc.withConnection(ds, "find upstream", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM upstreams WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(map(rs)) : Optional.empty();
                }
            }
        });
    }

    /** Every upstream, oldest first. */
    public List<Upstream> list() {
        return Jdbc.withConnection(ds, "list upstreams", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM upstreams ORDER BY created_at, id");
                 ResultSet rs = ps.executeQuery()) {
                List<Upstream> upstreams = new ArrayList<>();
                while (rs.next()) {
                    upstreams.add(map(rs));
                }
                return upstreams;
            }
        });
    }

    /** Applies {@code patch}; empty when the upstream is unknown. */
    public Optional<Upstream> update(String id, Patch patch) {
        Objects.requireNonNull(patch, "patch");
        return Jdbc.withConnection(ds, "update upstream", c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE upstreams
                       SET name = COALESCE(?, name), provider = COALESCE(?, provider), base_url = COALESCE(?, base_url),
                           api_key = COALESCE(?, api_key), weight = COALESCE(?, weight),
                           priority = COALESCE(?, priority), enabled = COALESCE(?, enabled)
                     WHERE id = ?
                    RETURNING\s""" + COLUMNS)) {
                ps.setString(1, patch.name());
                ps.setString(2, patch.provider());
                ps.setString(3, patch.baseUrl());
                ps.setString(4, patch.apiKey());
                Jdbc.setNullableInt(ps, 5, patch.weight());
                Jdbc.setNullableInt(ps, 6, patch.priority());
                if (patch.enabled() == null) {
                    ps.setNull(7, Types.BOOLEAN);
                } else {
                    ps.setBoolean(7, patch.enabled());
                }
                ps.setString(8, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(map(rs)) : Optional.empty();
                }
            }
        });
    }

    /**
     * Deletes the upstream; false when it is unknown.
     *
     * @throws UpstreamInUseException when a model route still references it
     */
    public boolean delete(String id) {
        try {
            return Jdbc.withConnection(ds, "delete upstream", c -> {
                List<String> models = modelsRoutingTo(c, id);
                if (!models.isEmpty()) {
                    throw new UpstreamInUseException("upstream " + id + " is still routed by " + String.join(", ", models));
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM upstreams WHERE id = ?")) {
                    ps.setString(1, id);
                    return ps.executeUpdate() > 0;
                }
            });
        } catch (DataAccessException e) {
            // A model saved between the check and the delete still trips the routes' foreign key.
            if (Jdbc.hasSqlState(e, FOREIGN_KEY_VIOLATION)) {
                throw new UpstreamInUseException("upstream " + id + " is still routed by a model");
            }
            throw e;
        }
    }

    private static List<String> modelsRoutingTo(Connection c, String upstreamId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT DISTINCT model_id FROM model_routes WHERE upstream_id = ? ORDER BY model_id")) {
            ps.setString(1, upstreamId);
            List<String> models = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    models.add(rs.getString(1));
                }
            }
            return models;
        }
    }

    private static Upstream map(ResultSet rs) throws SQLException {
        return new Upstream(
                rs.getString("id"),
                rs.getString("name"),
                rs.getString("provider"),
                rs.getString("base_url"),
                rs.getString("api_key"),
                rs.getInt("weight"),
                rs.getInt("priority"),
                rs.getBoolean("enabled"),
                Jdbc.instant(rs, "created_at"));
    }
}
