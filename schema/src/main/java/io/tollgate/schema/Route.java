package io.tollgate.schema;

/** One way to serve a model: an upstream and the model name that upstream knows it by. */
public record Route(String upstreamId, String upstreamModel) {
}
