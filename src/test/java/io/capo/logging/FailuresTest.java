package io.capo.logging;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

class FailuresTest {

    @Test
    void anExceptionWithoutMessageIsNamedByItsClass() {
        assertThat(Failures.describe(new TimeoutException())).isEqualTo("java.util.concurrent.TimeoutException");
        assertThat(Failures.describe(new NullPointerException())).isEqualTo("java.lang.NullPointerException");
    }

    @Test
    void futureWrappersAreDroppedAndCausesFollow() {
        Throwable error = new ExecutionException(new CompletionException(
                new IllegalStateException("write failed", new IOException("connection reset"))));
        assertThat(Failures.describe(error))
                .isEqualTo("IllegalStateException: write failed; caused by IOException: connection reset");
    }

    @Test
    void aCauseWithoutMessageIsNamedToo() {
        assertThat(Failures.describe(new IllegalStateException("store", new NullPointerException())))
                .isEqualTo("IllegalStateException: store; caused by java.lang.NullPointerException");
    }

    @Test
    void aCycleOfCausesEnds() {
        Exception a = new Exception("a");
        Exception b = new Exception("b", a);
        a.initCause(b);
        assertThat(Failures.describe(a).split("caused by")).hasSize(6);
    }
}
