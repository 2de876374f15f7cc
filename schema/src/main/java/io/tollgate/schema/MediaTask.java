package io.tollgate.schema;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * A long-running generation (a video, or an image asked for with {@code "async": true}) and the
 * credits it holds: {@code reserved} from its submit until it ends, then {@code cost} is charged.
 *
 * @param requestId       the submit's request id: its settlement and request-log row carry it
 * @param upstreamTaskId  the upstream's id for it, once the upstream accepted it
 * @param status          {@code submitting}, {@code queued}, {@code running}, {@code succeeded} or {@code failed}
 * @param units           images or seconds reserved
 * @param pricePerRequest the price when it was submitted, which it is billed at
 * @param pricePerUnit    per image or per second, likewise
 * @param billedUnits     images or seconds charged, once it succeeded
 * @param resultJson      what a poll shows once it succeeded (JSON), or null
 * @param checkedAt       when a proxy last asked the upstream about it (or claimed to)
 */
public record MediaTask(
        String id,
        String kind,
        String requestId,
        String accountId,
        String keyId,
        String model,
        String upstreamId,
        String upstreamModel,
        String upstreamTaskId,
        String status,
        BigDecimal units,
        BigDecimal pricePerRequest,
        BigDecimal pricePerUnit,
        BigDecimal reserved,
        BigDecimal cost,
        BigDecimal billedUnits,
        String resultJson,
        String error,
        Instant createdAt,
        Instant checkedAt,
        Instant finishedAt) {

    public static final String IMAGE = "image";
    public static final String VIDEO = "video";
    public static final String SUBMITTING = "submitting";
    public static final String QUEUED = "queued";
    public static final String RUNNING = "running";
    public static final String SUCCEEDED = "succeeded";
    public static final String FAILED = "failed";

    /** Succeeded or failed: nothing changes it any more. */
    public boolean finished() {
        return SUCCEEDED.equals(status) || FAILED.equals(status);
    }
}
