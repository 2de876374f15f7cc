package io.tollgate.schema;

/** A database call failed; the cause is the driver's {@link java.sql.SQLException}. */
public final class DataAccessException extends RuntimeException {

    public DataAccessException(String message, Throwable cause) {
        super(message, cause);
    }
}
