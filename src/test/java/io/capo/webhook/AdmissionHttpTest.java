package io.capo.webhook;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdmissionHttpTest {

    final AdmissionHttp http = new AdmissionHttp();

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            application/json
            APPLICATION/JSON
            Application/Json
            application/json; charset=utf-8
            application/json;charset=UTF-8
            application/json; charset="utf-8"
            ' application/json '
            """)
    void jsonInAnySpellingIsAccepted(String contentType) {
        assertThatCode(() -> http.check("POST", contentType)).doesNotThrowAnyException();
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', nullValues = "null", textBlock = """
            text/plain                        | Content-Type 'text/plain' is not supported: send application/json
            application/jsonx                 | Content-Type 'application/jsonx' is not supported: send application/json
            application/json; charset=latin1  | charset 'latin1' is not supported: JSON is sent as UTF-8
            ''                                | no Content-Type: send application/json
            null                              | no Content-Type: send application/json
            """)
    void otherMediaTypesAreUnsupported(String contentType, String message) {
        assertThatThrownBy(() -> http.check("POST", contentType)).isInstanceOf(UnsupportedMediaTypeException.class)
                .hasMessage(message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"GET", "PUT", "DELETE", "post"})
    void onlyPostIsAllowed(String method) {
        assertThatThrownBy(() -> http.check(method, "application/json")).isInstanceOf(MethodNotAllowedException.class)
                .hasMessage("method " + method + " is not allowed: POST an AdmissionReview");
    }
}
