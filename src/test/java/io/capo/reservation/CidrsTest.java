package io.capo.reservation;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrsTest {

    @ParameterizedTest
    @CsvSource({
            "10.0.0.5, 10.0.0.5/32",
            "10.0.0.5/32, 10.0.0.5/32",
            "' 172.16.3.4 ', 172.16.3.4/32",
            "fd00::1, fd00::1/128",
            "FD00:0:0:0:0:0:0:1, fd00::1/128",
            "fd00:0000:0000:0001:0000:0000:0000:0001/128, fd00:0:0:1::1/128",
            "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1/128",
            "2001:db8:1:2:3:4:5:6, 2001:db8:1:2:3:4:5:6/128",
            "1.1.1.1, 1.1.1.1/32"
    })
    void normalizesToCanonicalHostCidrs(String input, String expected) {
        assertThat(Cidrs.normalize(input)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "pod-0", "10.0.0", "10.0.0.256", "10.0.0.01", "10.0.0.0/24", "fd00::/64",
            "0.0.0.0", "::", "127.0.0.1", "::1", "224.0.0.1", "169.254.1.1", "fe80::1", "example.com", "10.0.0.5/31"})
    void refusesWhatIsNotAPodAddress(String input) {
        assertThatThrownBy(() -> Cidrs.normalize(input)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Cidrs.tryNormalize(input)).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({"10.0.0.5/32, 10.0.0.5", "fd00::1/128, fd00::1", "10.0.0.5, 10.0.0.5"})
    void addressStripsThePrefix(String cidr, String address) {
        assertThat(Cidrs.address(cidr)).isEqualTo(address);
    }
}
