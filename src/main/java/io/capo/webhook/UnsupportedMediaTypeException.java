package io.capo.webhook;

/** The request body is not declared as JSON; the caller gets HTTP 415 with this message. */
public final class UnsupportedMediaTypeException extends RuntimeException {

    public UnsupportedMediaTypeException(String message) {
        super(message);
    }
}
