package io.tollgate.schema;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UpstreamStoreTest {

    private static TestDatabase db;
    private static UpstreamStore upstreams;
    private static ModelStore models;

    @BeforeAll
    static void setUp() {
        db = TestDatabase.create();
        upstreams = new UpstreamStore(db.database().dataSource());
        models = new ModelStore(db.database().dataSource());
    }

    @AfterAll
    static void tearDown() {
        db.close();
    }

    @Test
    void createsFindsAndLists() {
        Upstream u = upstreams.create("openai-main", "openai", "https://api.openai.com/v1", "sk-secret-1234", 2, 1, true);

        assertThat(u.id()).startsWith("ups_");
        assertThat(u.apiKey()).isEqualTo("sk-secret-1234");
        assertThat(u.apiKeyLast4()).isEqualTo("1234");
        assertThat(u.weight()).isEqualTo(2);
        assertThat(u.priority()).isEqualTo(1);
        assertThat(u.enabled()).isTrue();
        assertThat(u.createdAt()).isNotNull();
        assertThat(upstreams.find(u.id())).contains(u);
        assertThat(upstreams.list()).contains(u);
        assertThat(upstreams.find("ups_missing")).isEmpty();
    }

    @Test
    void aNullApiKeyIsStoredEmpty() {
        Upstream u = upstreams.create("mock", "mock", "http://127.0.0.1:1/v1", null, 1, 0, true);

        assertThat(u.apiKey()).isEmpty();
    }

    @Test
    void listIsOldestFirst() {
        Upstream a = upstreams.create("a", "mock", "http://a/v1", "", 1, 0, true);
        Upstream b = upstreams.create("b", "mock", "http://b/v1", "", 1, 0, true);

        List<String> ids = upstreams.list().stream().map(Upstream::id).toList();
        assertThat(ids.indexOf(a.id())).isLessThan(ids.indexOf(b.id()));
    }

    @Test
    void updateChangesOnlyTheGivenFields() {
        Upstream u = upstreams.create("old", "openai", "https://api.openai.com/v1", "sk-aaaa", 1, 0, true);

        Upstream changed = upstreams.update(u.id(),
                new UpstreamStore.Patch("new", "anthropic", "https://api.anthropic.com/v1", "sk-bbbb", 5, 9, false))
                .orElseThrow();
        assertThat(changed).isEqualTo(new Upstream(u.id(), "new", "anthropic", "https://api.anthropic.com/v1", "sk-bbbb",
                5, 9, false, u.createdAt()));

        Upstream same = upstreams.update(u.id(), new UpstreamStore.Patch(null, null, null, null, null, null, null))
                .orElseThrow();
        assertThat(same).isEqualTo(changed);

        assertThat(upstreams.update(u.id(), new UpstreamStore.Patch(null, null, null, null, 0, null, true)).orElseThrow())
                .extracting(Upstream::weight, Upstream::enabled, Upstream::name)
                .containsExactly(0, true, "new");
        assertThat(upstreams.update("ups_missing", new UpstreamStore.Patch("x", null, null, null, null, null, null)))
                .isEmpty();
    }

    @Test
    void deleteRefusesAnUpstreamAModelRoutesTo() {
        Upstream u = upstreams.create("used", "mock", "http://127.0.0.1:1/v1", "", 1, 0, true);
        models.put(ModelStoreTest.textModel("uses-upstream", List.of(new Route(u.id(), "m"))));

        assertThatThrownBy(() -> upstreams.delete(u.id()))
                .isInstanceOf(UpstreamStore.UpstreamInUseException.class)
                .hasMessageContaining("uses-upstream");
        assertThat(upstreams.find(u.id())).isPresent();

        models.delete("uses-upstream");
        assertThat(upstreams.delete(u.id())).isTrue();
        assertThat(upstreams.find(u.id())).isEmpty();
        assertThat(upstreams.delete(u.id())).isFalse();
    }
}
