package io.tollgate.bench.load;

/** What a driver learns about one request on a {@link LoadConnection}; called on the connection's loop. */
interface Exchange {

    /** The first bytes of the response arrived (before they are parsed). */
    default void onFirstByte(long nanos) {
    }

    /** A {@code data:} event started arriving (streams only). */
    default void onEvent(long nanos) {
    }

    void onComplete(int status, long nanos);

    /** The connection broke (or the answer was garbage) before the response ended. */
    void onFailed(String why, long nanos);
}
