package io.tollgate.schema;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** The model catalog: what the gateway sells and the upstreams that serve each model. */
public final class ModelStore {

    private static final String COLUMNS = "id, display_name, category, capabilities, price_per_request, price_input_per_1m,"
            + " price_output_per_1m, price_per_image, price_per_second, max_output_tokens, enabled, public,"
            + " video_resolutions, created_at, updated_at";

    private final DataSource ds;

    public ModelStore(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    /** A route names an upstream that does not exist. */
    public static final class UnknownUpstreamException extends RuntimeException {

        private final List<String> upstreamIds;

        public UnknownUpstreamException(List<String> upstreamIds) {
            super("unknown upstream " + String.join(", ", upstreamIds));
            this.upstreamIds = List.copyOf(upstreamIds);
        }

        public List<String> upstreamIds() {
            return upstreamIds;
        }
    }

    /**
     * Inserts the model or replaces it and all its routes (positions 0..n-1), in one transaction.
     * {@code createdAt} and {@code updatedAt} of the argument are ignored: the database sets them.
     *
     * @return true when the model was created, false when it replaced an existing one
     * @throws UnknownUpstreamException when a route names an upstream that does not exist
     */
    public boolean put(Model model) {
        Objects.requireNonNull(model, "model");
        List<Route> routes = model.routes() == null ? List.of() : model.routes();
        Pricing pricing = model.pricing() == null ? Pricing.FREE : model.pricing();
        return Jdbc.inTransaction(ds, "put model", c -> {
            lockUpstreams(c, routes);
            boolean created;
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO models (id, display_name, category, capabilities, price_per_request, price_input_per_1m,
                                        price_output_per_1m, price_per_image, price_per_second, max_output_tokens,
                                        enabled, public, video_resolutions)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        display_name = EXCLUDED.display_name, category = EXCLUDED.category,
                        capabilities = EXCLUDED.capabilities, price_per_request = EXCLUDED.price_per_request,
                        price_input_per_1m = EXCLUDED.price_input_per_1m,
                        price_output_per_1m = EXCLUDED.price_output_per_1m,
                        price_per_image = EXCLUDED.price_per_image, price_per_second = EXCLUDED.price_per_second,
                        max_output_tokens = EXCLUDED.max_output_tokens, enabled = EXCLUDED.enabled,
                        public = EXCLUDED.public, video_resolutions = EXCLUDED.video_resolutions, updated_at = now()
                    RETURNING (xmax = 0) AS created""")) {
                int i = 1;
                ps.setString(i++, model.id());
                ps.setString(i++, model.displayName());
                ps.setString(i++, model.category());
                Jdbc.setTextArray(c, ps, i++, model.capabilities() == null ? List.of() : model.capabilities());
                ps.setBigDecimal(i++, pricing.perRequest());
                ps.setBigDecimal(i++, pricing.inputPer1m());
                ps.setBigDecimal(i++, pricing.outputPer1m());
                ps.setBigDecimal(i++, pricing.perImage());
                ps.setBigDecimal(i++, pricing.perSecond());
                Jdbc.setNullableInt(ps, i++, model.maxOutputTokens());
                ps.setBoolean(i++, model.enabled());
                ps.setBoolean(i++, model.isPublic());
                Jdbc.setTextArray(c, ps, i, model.videoResolutions());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    // xmax is 0 only on a freshly inserted row version.
                    created = rs.getBoolean("created");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM model_routes WHERE model_id = ?")) {
                ps.setString(1, model.id());
                ps.executeUpdate();
            }
            if (!routes.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO model_routes (model_id, position, upstream_id, upstream_model) VALUES (?, ?, ?, ?)")) {
                    for (int position = 0; position < routes.size(); position++) {
                        Route route = routes.get(position);
                        ps.setString(1, model.id());
                        ps.setInt(2, position);
                        ps.setString(3, route.upstreamId());
                        ps.setString(4, route.upstreamModel());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            }
            return created;
        });
    }

    public Optional<Model> find(String id) {
        return Jdbc.inSnapshot(ds, "find model", c -> {
            Model model;
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM models WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    model = map(rs, List.of());
                }
            }
            List<Route> routes = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT upstream_id, upstream_model FROM model_routes WHERE model_id = ? ORDER BY position")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        routes.add(new Route(rs.getString("upstream_id"), rs.getString("upstream_model")));
                    }
                }
            }
            return Optional.of(withRoutes(model, routes));
        });
    }

    /** Every model ordered by id, each with its routes in order. */
    public List<Model> list() {
        return Jdbc.inSnapshot(ds, "list models", c -> {
            Map<String, List<Route>> routes = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT model_id, upstream_id, upstream_model FROM model_routes ORDER BY model_id, position");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    routes.computeIfAbsent(rs.getString("model_id"), k -> new ArrayList<>())
                            .add(new Route(rs.getString("upstream_id"), rs.getString("upstream_model")));
                }
            }
            List<Model> models = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM models ORDER BY id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    models.add(map(rs, routes.getOrDefault(rs.getString("id"), List.of())));
                }
            }
            return models;
        });
    }

    /** Deletes the model and its routes; false when it is unknown. */
    public boolean delete(String id) {
        return Jdbc.withConnection(ds, "delete model", c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM models WHERE id = ?")) {
                ps.setString(1, id);
                return ps.executeUpdate() > 0;
            }
        });
    }

    /** Share-locks every routed upstream, so none can be deleted before this transaction ends. */
    private static void lockUpstreams(Connection c, List<Route> routes) throws SQLException {
        Set<String> wanted = new LinkedHashSet<>();
        for (Route route : routes) {
            wanted.add(route.upstreamId());
        }
        if (wanted.isEmpty()) {
            return;
        }
        Set<String> found = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM upstreams WHERE id = ANY(?) FOR SHARE")) {
            ps.setArray(1, c.createArrayOf("text", wanted.toArray(String[]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getString(1));
                }
            }
        }
        wanted.removeAll(found);
        if (!wanted.isEmpty()) {
            throw new UnknownUpstreamException(List.copyOf(wanted));
        }
    }

    private static Model withRoutes(Model m, List<Route> routes) {
        return new Model(m.id(), m.displayName(), m.category(), m.capabilities(), List.copyOf(routes), m.pricing(),
                m.maxOutputTokens(), m.enabled(), m.isPublic(), m.videoResolutions(), m.createdAt(), m.updatedAt());
    }

    private static Model map(ResultSet rs, List<Route> routes) throws SQLException {
        Pricing pricing = new Pricing(
                rs.getBigDecimal("price_per_request"),
                rs.getBigDecimal("price_input_per_1m"),
                rs.getBigDecimal("price_output_per_1m"),
                rs.getBigDecimal("price_per_image"),
                rs.getBigDecimal("price_per_second"));
        return new Model(
                rs.getString("id"),
                rs.getString("display_name"),
                rs.getString("category"),
                Jdbc.textList(rs, "capabilities"),
                List.copyOf(routes),
                pricing,
                Jdbc.nullableInt(rs, "max_output_tokens"),
                rs.getBoolean("enabled"),
                rs.getBoolean("public"),
                Jdbc.textList(rs, "video_resolutions"),
                Jdbc.instant(rs, "created_at"),
                Jdbc.instant(rs, "updated_at"));
    }
}
