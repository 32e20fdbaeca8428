package io.capo.logging;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Describes an exception for one log line: its class and message, then each cause. Many exceptions have no
 * message ({@link TimeoutException} from {@code Future.get}, a bare {@code NullPointerException}); logging
 * {@code getMessage()} alone printed "null".
 */
public final class Failures {

    private static final int MAX_CAUSES = 5;

    private Failures() {
    }

    public static String describe(Throwable error) {
        if (error == null) {
            return "unknown failure";
        }
        Throwable current = unwrap(error);
        StringBuilder text = new StringBuilder(one(current));
        for (int depth = 0; depth < MAX_CAUSES && current.getCause() != null && current.getCause() != current; depth++) {
            current = current.getCause();
            text.append("; caused by ").append(one(current));
        }
        return text.toString();
    }

    /** The exception behind the wrappers that futures add. */
    public static Throwable unwrap(Throwable error) {
        Throwable current = error;
        while ((current instanceof ExecutionException || current instanceof CompletionException)
                && current.getCause() != null) {
            current = current.getCause();
        }
        return current;
    }

    private static String one(Throwable error) {
        String message = error.getMessage();
        return message == null || message.isBlank() ? error.getClass().getName()
                : error.getClass().getSimpleName() + ": " + message;
    }
}
