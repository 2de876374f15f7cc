package io.tollgate.admin;

import io.tollgate.schema.Upstream;
import io.tollgate.schema.UpstreamStore;

import java.util.List;

/** Provider endpoints; one still routed by a model cannot be deleted. */
final class UpstreamService {

    private final UpstreamStore upstreams;

    UpstreamService(UpstreamStore upstreams) {
        this.upstreams = upstreams;
    }

    Upstream create(String name, String provider, String baseUrl, String apiKey, int weight, int priority,
                    boolean enabled) {
        return upstreams.create(name, provider, baseUrl, apiKey, weight, priority, enabled);
    }

    List<Upstream> list() {
        return upstreams.list();
    }

    Upstream get(String id) {
        return upstreams.find(id).orElseThrow(() -> unknown(id));
    }

    Upstream update(String id, UpstreamStore.Patch patch) {
        return upstreams.update(id, patch).orElseThrow(() -> unknown(id));
    }

    void delete(String id) {
        try {
            if (!upstreams.delete(id)) {
                throw unknown(id);
            }
        } catch (UpstreamStore.UpstreamInUseException e) {
            throw ApiException.conflict("upstream_in_use", e.getMessage() + "; change those models' routes first");
        }
    }

    private static ApiException unknown(String id) {
        return ApiException.notFound("upstream " + id + " does not exist");
    }
}
