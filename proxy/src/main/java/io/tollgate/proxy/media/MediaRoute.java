package io.tollgate.proxy.media;

import io.tollgate.schema.Model;

import io.netty.handler.codec.http.HttpMethod;

/**
 * The media endpoints (SPEC §2), matched on the path after {@code /v1} or {@code /api/v1}.
 *
 * @param kind     what the request does
 * @param taskId   the task a poll names; null for a submit
 * @param endpoint the endpoint as the request log records it: the path with a task id written as
 *                 {@code {id}}, so the log groups polls of every task together
 * @param method   the one method the path takes; another one is 405
 */
public record MediaRoute(Kind kind, String taskId, String endpoint, HttpMethod method) {

    public enum Kind {
        /** {@code POST /images/generations}: answered at once, or a task with {@code "async": true}. */
        IMAGE_GENERATION,
        /** {@code GET /images/tasks/{id}}. */
        IMAGE_TASK,
        /** {@code POST /videos/generations} (alias {@code /video/generations}): always a task. */
        VIDEO_GENERATION,
        /** {@code GET /videos/tasks/{id}} (aliases {@code /videos/generations/{id}}, {@code /video/generations/{id}}). */
        VIDEO_TASK
    }

    public static final String IMAGES = "/images/generations";
    public static final String IMAGE_TASKS = "/images/tasks/";
    public static final String VIDEOS = "/videos/generations";
    public static final String VIDEO_ALIAS = "/video/generations";
    public static final String VIDEO_TASKS = "/videos/tasks/";

    /** The media route of {@code endpoint} (already without {@code /v1}), or null when it is none. */
    public static MediaRoute match(String endpoint) {
        switch (endpoint) {
            case IMAGES -> {
                return new MediaRoute(Kind.IMAGE_GENERATION, null, IMAGES, HttpMethod.POST);
            }
            case VIDEOS, VIDEO_ALIAS -> {
                return new MediaRoute(Kind.VIDEO_GENERATION, null, endpoint, HttpMethod.POST);
            }
            default -> {
                // handled below
            }
        }
        String id;
        if ((id = idAfter(endpoint, IMAGE_TASKS)) != null) {
            return new MediaRoute(Kind.IMAGE_TASK, id, IMAGE_TASKS + "{id}", HttpMethod.GET);
        }
        for (String prefix : new String[] {VIDEO_TASKS, VIDEOS + "/", VIDEO_ALIAS + "/"}) {
            if ((id = idAfter(endpoint, prefix)) != null) {
                return new MediaRoute(Kind.VIDEO_TASK, id, prefix + "{id}", HttpMethod.GET);
            }
        }
        return null;
    }

    /** The one path segment after {@code prefix}, or null. */
    private static String idAfter(String endpoint, String prefix) {
        if (!endpoint.startsWith(prefix) || endpoint.length() == prefix.length()) {
            return null;
        }
        String id = endpoint.substring(prefix.length());
        return id.indexOf('/') < 0 ? id : null;
    }

    public boolean submit() {
        return taskId == null;
    }

    public boolean video() {
        return kind == Kind.VIDEO_GENERATION || kind == Kind.VIDEO_TASK;
    }

    /** The model category this route serves. */
    public String category() {
        return video() ? Model.VIDEO : Model.IMAGE;
    }
}
