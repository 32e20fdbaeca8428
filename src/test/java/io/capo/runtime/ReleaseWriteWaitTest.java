package io.capo.runtime;

import io.capo.release.ReleaseCycle;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ReleaseWriteWaitTest {

    @ParameterizedTest(name = "shutdownTimeout {0} s")
    @CsvSource({"20, 10000", "5, 2500", "45, 10000", "1, 500"})
    void aReleaseCycleWaitsAtMostHalfTheShutdownTimeout(String shutdownSeconds, long waitMillis) {
        Duration wait = CapoConfiguration.releaseWriteWait(shutdownSeconds);
        assertThat(wait).isEqualTo(Duration.ofMillis(waitMillis));
        assertThat(wait).isLessThanOrEqualTo(ReleaseCycle.DEFAULT_WRITE_WAIT);
    }
}
