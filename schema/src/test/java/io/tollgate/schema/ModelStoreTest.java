package io.tollgate.schema;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelStoreTest {

    private static TestDatabase db;
    private static UpstreamStore upstreams;
    private static ModelStore models;
    private static String upstreamA;
    private static String upstreamB;

    @BeforeAll
    static void setUp() {
        db = TestDatabase.create();
        upstreams = new UpstreamStore(db.database().dataSource());
        models = new ModelStore(db.database().dataSource());
        upstreamA = upstreams.create("a", "openai", "https://a.example/v1", "k", 1, 0, true).id();
        upstreamB = upstreams.create("b", "mock", "http://b.example/v1", "", 1, 0, true).id();
    }

    @AfterAll
    static void tearDown() {
        db.close();
    }

    static Model textModel(String id, List<Route> routes) {
        return new Model(id, "Display " + id, "text", List.of("chat"), routes,
                new Pricing(null, new BigDecimal("1.25"), new BigDecimal("10"), null, null),
                4096, true, true, null, null, null);
    }

    @Test
    void putCreatesThenReplacesTheModelAndItsRoutes() {
        String id = "openai/gpt-5";
        boolean created = models.put(textModel(id, List.of(new Route(upstreamA, "gpt-5"), new Route(upstreamB, "fake"))));

        assertThat(created).isTrue();
        Model stored = models.find(id).orElseThrow();
        assertThat(stored.id()).isEqualTo(id);
        assertThat(stored.displayName()).isEqualTo("Display " + id);
        assertThat(stored.category()).isEqualTo("text");
        assertThat(stored.capabilities()).containsExactly("chat");
        assertThat(stored.routes()).containsExactly(new Route(upstreamA, "gpt-5"), new Route(upstreamB, "fake"));
        assertThat(stored.pricing().inputPer1m()).isEqualByComparingTo("1.25");
        assertThat(stored.pricing().outputPer1m()).isEqualByComparingTo("10");
        assertThat(stored.pricing().perRequest()).isNull();
        assertThat(stored.maxOutputTokens()).isEqualTo(4096);
        assertThat(stored.enabled()).isTrue();
        assertThat(stored.isPublic()).isTrue();
        assertThat(stored.videoResolutions()).isNull();
        assertThat(stored.createdAt()).isNotNull();

        Model video = new Model(id, "Video", "video", List.of(), List.of(new Route(upstreamB, "v1")),
                new Pricing(null, null, null, null, new BigDecimal("0.1")), null, false, false,
                List.of("720p", "1080p"), null, null);
        assertThat(models.put(video)).isFalse();

        Model replaced = models.find(id).orElseThrow();
        assertThat(replaced.displayName()).isEqualTo("Video");
        assertThat(replaced.category()).isEqualTo("video");
        assertThat(replaced.capabilities()).isEmpty();
        assertThat(replaced.routes()).containsExactly(new Route(upstreamB, "v1"));
        assertThat(replaced.pricing().inputPer1m()).isNull();
        assertThat(replaced.pricing().perSecond()).isEqualByComparingTo("0.1");
        assertThat(replaced.maxOutputTokens()).isNull();
        assertThat(replaced.enabled()).isFalse();
        assertThat(replaced.isPublic()).isFalse();
        assertThat(replaced.videoResolutions()).containsExactly("720p", "1080p");
        assertThat(replaced.createdAt()).isEqualTo(stored.createdAt());
        assertThat(replaced.updatedAt()).isAfterOrEqualTo(stored.updatedAt());
    }

    @Test
    void routesArePositionedInOrder() throws Exception {
        models.put(textModel("positions", List.of(new Route(upstreamB, "x"), new Route(upstreamA, "y"), new Route(upstreamB, "z"))));

        try (Connection c = DriverManager.getConnection(db.url());
             PreparedStatement ps = c.prepareStatement(
                     "SELECT position, upstream_model FROM model_routes WHERE model_id = ? ORDER BY position")) {
            ps.setString(1, "positions");
            try (ResultSet rs = ps.executeQuery()) {
                StringBuilder seen = new StringBuilder();
                while (rs.next()) {
                    seen.append(rs.getInt(1)).append(rs.getString(2));
                }
                assertThat(seen.toString()).isEqualTo("0x1y2z");
            }
        }
    }

    @Test
    void anUnknownUpstreamRefusesTheWholePut() {
        models.put(textModel("keeps-routes", List.of(new Route(upstreamA, "a"))));

        assertThatThrownBy(() -> models.put(textModel("keeps-routes",
                List.of(new Route(upstreamB, "b"), new Route("ups_missing", "m")))))
                .isInstanceOf(ModelStore.UnknownUpstreamException.class)
                .satisfies(e -> assertThat(((ModelStore.UnknownUpstreamException) e).upstreamIds())
                        .containsExactly("ups_missing"));

        assertThat(models.find("keeps-routes").orElseThrow().routes()).containsExactly(new Route(upstreamA, "a"));
        assertThatThrownBy(() -> models.put(textModel("never-made", List.of(new Route("ups_missing", "m")))))
                .isInstanceOf(ModelStore.UnknownUpstreamException.class);
        assertThat(models.find("never-made")).isEmpty();
    }

    @Test
    void listIsOrderedByIdWithRoutes() {
        models.put(textModel("zz-last", List.of(new Route(upstreamA, "z"))));
        models.put(textModel("aa-first", List.of()));

        List<Model> all = models.list();
        List<String> ids = all.stream().map(Model::id).toList();
        assertThat(ids).isSorted().contains("aa-first", "zz-last");
        assertThat(all.get(ids.indexOf("zz-last")).routes()).containsExactly(new Route(upstreamA, "z"));
        assertThat(all.get(ids.indexOf("aa-first")).routes()).isEmpty();
    }

    @Test
    void deleteRemovesTheModelAndItsRoutes() throws Exception {
        models.put(textModel("doomed", List.of(new Route(upstreamA, "a"))));

        assertThat(models.delete("doomed")).isTrue();
        assertThat(models.find("doomed")).isEmpty();
        assertThat(models.delete("doomed")).isFalse();
        try (Connection c = DriverManager.getConnection(db.url());
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM model_routes WHERE model_id = 'doomed'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }
}
