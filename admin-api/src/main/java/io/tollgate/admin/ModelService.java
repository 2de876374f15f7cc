package io.tollgate.admin;

import io.tollgate.schema.Model;
import io.tollgate.schema.ModelStore;

import java.util.List;

/** The model catalog; every route must name an existing upstream. */
final class ModelService {

    /** The stored model after a put, and whether the put created it. */
    record Put(Model model, boolean created) {
    }

    private final ModelStore models;

    ModelService(ModelStore models) {
        this.models = models;
    }

    Put put(Model model) {
        boolean created;
        try {
            created = models.put(model);
        } catch (ModelStore.UnknownUpstreamException e) {
            throw unknownUpstream(model, e.upstreamIds());
        }
        return new Put(get(model.id()), created);
    }

    List<Model> list() {
        return models.list();
    }

    Model get(String id) {
        return models.find(id).orElseThrow(() -> unknown(id));
    }

    void delete(String id) {
        if (!models.delete(id)) {
            throw unknown(id);
        }
    }

    private static ApiException unknownUpstream(Model model, List<String> unknownIds) {
        for (int i = 0; i < model.routes().size(); i++) {
            String upstreamId = model.routes().get(i).upstreamId();
            if (unknownIds.contains(upstreamId)) {
                return ApiException.invalidRequest(
                        "'routes[" + i + "].upstream_id' names an upstream that does not exist: " + upstreamId);
            }
        }
        return ApiException.invalidRequest("a route names an upstream that does not exist: " + String.join(", ", unknownIds));
    }

    private static ApiException unknown(String id) {
        return ApiException.notFound("model " + id + " does not exist");
    }
}
