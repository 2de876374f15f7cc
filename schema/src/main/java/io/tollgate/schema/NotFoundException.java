package io.tollgate.schema;

/** A write named a row that does not exist, e.g. crediting an unknown account. */
public final class NotFoundException extends RuntimeException {

    public NotFoundException(String message) {
        super(message);
    }
}
