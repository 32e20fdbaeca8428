package io.capo.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capo.informers.PodFactsMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdmissionReviewsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    static ObjectNode fixture(String name) throws Exception {
        try (InputStream in = AdmissionReviewsTest.class.getResourceAsStream("/admission/" + name)) {
            return (ObjectNode) JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** The fixture with the field at {@code pointer} set to {@code json}, or removed when {@code json} is "-". */
    static String mutate(String fixture, String pointer, String json) throws Exception {
        ObjectNode review = fixture(fixture);
        int slash = pointer.lastIndexOf('/');
        ObjectNode parent = (ObjectNode) review.at(pointer.substring(0, slash));
        String field = pointer.substring(slash + 1);
        if ("-".equals(json)) {
            parent.remove(field);
        } else {
            parent.set(field, JSON.readTree(json));
        }
        return review.toString();
    }

    @ParameterizedTest(name = "{1} = {2}")
    @CsvSource(delimiter = '|', textBlock = """
            delete-pod.json | /apiVersion                                    | "admission.k8s.io/v2"   | apiVersion 'admission.k8s.io/v2' is not admission.k8s.io/v1 or admission.k8s.io/v1beta1
            delete-pod.json | /apiVersion                                    | "admission.k8s.io/"     | apiVersion 'admission.k8s.io/' is not admission.k8s.io/v1 or admission.k8s.io/v1beta1
            delete-pod.json | /apiVersion                                    | -                       | apiVersion '' is not admission.k8s.io/v1 or admission.k8s.io/v1beta1
            delete-pod.json | /kind                                          | 7                       | kind: expected a string
            delete-pod.json | /request                                       | -                       | request is missing
            delete-pod.json | /request                                       | []                      | request: expected an object
            delete-pod.json | /request/uid                                   | -                       | request.uid is missing
            delete-pod.json | /request/uid                                   | 12                      | request.uid: expected a string
            delete-pod.json | /request/resource                              | -                       | request.resource is missing
            delete-pod.json | /request/resource                              | "pods"                  | request.resource: expected an object
            delete-pod.json | /request/resource/resource                     | -                       | request.resource.resource is missing
            delete-pod.json | /request/kind                                  | -                       | request.kind is missing
            delete-pod.json | /request/kind/kind                             | ""                      | request.kind.kind is missing
            delete-pod.json | /request/operation                             | -                       | request.operation is missing
            delete-pod.json | /request/operation                             | "delete"                | request.operation: 'delete' is not one of CREATE, UPDATE, DELETE, CONNECT
            delete-pod.json | /request/dryRun                                | "yes"                   | request.dryRun: expected true or false
            delete-pod.json | /request/namespace                             | -                       | request.namespace is missing
            delete-pod.json | /request/name                                  | ["a"]                   | request.name: expected a string
            delete-pod.json | /request/userInfo                              | "admin"                 | request.userInfo: expected an object
            delete-pod.json | /request/oldObject                             | "pod"                   | request.oldObject: expected an object
            delete-pod.json | /request/oldObject/metadata                    | -                       | request.oldObject.metadata is missing
            delete-pod.json | /request/oldObject/metadata/uid                | -                       | request.oldObject.metadata.uid is missing
            delete-pod.json | /request/oldObject/metadata/labels             | "app=kafka"             | request.oldObject.metadata.labels: expected an object
            delete-pod.json | /request/oldObject/metadata/labels             | {"app":1}               | request.oldObject.metadata.labels.app: expected a string
            delete-pod.json | /request/oldObject/metadata/annotations        | []                      | request.oldObject.metadata.annotations: expected an object
            delete-pod.json | /request/oldObject/metadata/deletionTimestamp  | "yesterday"             | request.oldObject.metadata.deletionTimestamp: 'yesterday' is not an RFC 3339 time such as 2026-01-02T15:04:05Z
            delete-pod.json | /request/oldObject/metadata/deletionTimestamp  | ""                      | request.oldObject.metadata.deletionTimestamp: '' is not an RFC 3339 time such as 2026-01-02T15:04:05Z
            delete-pod.json | /request/oldObject/metadata/deletionTimestamp  | 1700000000              | request.oldObject.metadata.deletionTimestamp: expected a string
            delete-pod.json | /request/oldObject/spec                        | "x"                     | request.oldObject.spec: expected an object
            delete-pod.json | /request/oldObject/spec/hostNetwork            | "true"                  | request.oldObject.spec.hostNetwork: expected true or false
            delete-pod.json | /request/oldObject/spec/nodeName               | {}                      | request.oldObject.spec.nodeName: expected a string
            delete-pod.json | /request/oldObject/status                      | 3                       | request.oldObject.status: expected an object
            delete-pod.json | /request/oldObject/status/podIPs               | "10.0.0.1"              | request.oldObject.status.podIPs: expected an array
            delete-pod.json | /request/oldObject/status/podIPs               | ["10.0.0.1"]            | request.oldObject.status.podIPs[0]: expected an object
            delete-pod.json | /request/oldObject/status/podIPs               | [{"ip":10}]             | request.oldObject.status.podIPs[0].ip: expected a string
            delete-pod.json | /request/oldObject/status/podIP                | ["10.0.0.1"]            | request.oldObject.status.podIP: expected a string
            delete-pod.json | /request/oldObject/status/containerStatuses    | {"name":"kafka"}        | request.oldObject.status.containerStatuses: expected an array
            delete-pod.json | /request/oldObject/status/containerStatuses    | [{"state":"gone"}]      | request.oldObject.status.containerStatuses[0].state: expected an object
            delete-pod.json | /request/oldObject/status/containerStatuses    | [{"state":{"terminated":{"finishedAt":"soon"}}}] | request.oldObject.status.containerStatuses[0].state.terminated.finishedAt: 'soon' is not an RFC 3339 time such as 2026-01-02T15:04:05Z
            evict-pod.json  | /request/name                                  | -                       | request.name is missing
            evict-pod.json  | /request/subResource                           | 1                       | request.subResource: expected a string
            """)
    void malformedReviewsAreRefusedNamingTheField(String fixture, String pointer, String json, String message)
            throws Exception {
        String body = mutate(fixture, pointer, json);
        assertThatThrownBy(() -> AdmissionReviews.parse(body)).isInstanceOf(BadAdmissionRequestException.class)
                .hasMessage(message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            admission.k8s.io/v1
            admission.k8s.io/v1beta1
            """)
    void bothAdmissionVersionsAreReadAndEchoed(String apiVersion) throws Exception {
        AdmissionRequest request = AdmissionReviews.parse(mutate("delete-pod.json", "/apiVersion",
                "\"" + apiVersion + "\""));
        assertThat(request.apiVersion()).isEqualTo(apiVersion);
        assertThat(AdmissionReviews.allow(request, null)).contains("\"apiVersion\":\"" + apiVersion + "\"");
    }

    @Test
    void theFieldsCapoReadsAreOptionalWhereTheApiServerMayLeaveThemOut() throws Exception {
        ObjectNode review = fixture("delete-pod.json");
        ObjectNode pod = (ObjectNode) review.at("/request/oldObject");
        pod.remove("spec");
        pod.remove("status");
        ((ObjectNode) pod.get("metadata")).remove("labels");
        ((ObjectNode) pod.get("metadata")).putNull("deletionTimestamp");
        review.with("request").remove("userInfo");
        review.with("request").remove("dryRun");
        AdmissionRequest request = AdmissionReviews.parse(review.toString());
        assertThat(request.isPodDelete()).isTrue();
        assertThat(request.userName()).isEmpty();
        assertThat(request.dryRun()).isFalse();
        // and the pod reader agrees
        assertThat(AdmissionReviews.readPod(request.oldObject(), AdmissionReviewsTest::read).ips()).isEmpty();
    }

    @Test
    void anOldObjectOfAnotherResourceIsNotCheckedAsAPod() throws Exception {
        String body = mutate("delete-pod.json", "/request/resource/resource", "\"configmaps\"");
        ObjectNode review = (ObjectNode) JSON.readTree(body);
        ((ObjectNode) review.at("/request/oldObject/metadata")).put("labels", "not a map");
        assertThat(AdmissionReviews.parse(review.toString()).isPodDelete()).isFalse();
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /spec/containers                     | "kafka"            | request.oldObject.spec.containers: expected an array
            /spec/containers                     | [{"ports":"9092"}] | request.oldObject.spec.containers[0].ports: expected an array
            /status/conditions                   | {"Ready":true}     | request.oldObject.status.conditions: expected an array
            """)
    void fieldsCapoDoesNotReadButTheObjectMappingRefusesAreNamedToo(String pointer, String json, String message)
            throws Exception {
        AdmissionRequest request = AdmissionReviews.parse(mutate("delete-pod.json", "/request/oldObject" + pointer,
                json));
        assertThatThrownBy(() -> AdmissionReviews.readPod(request.oldObject(), AdmissionReviewsTest::read))
                .isInstanceOf(BadAdmissionRequestException.class).hasMessage(message);
    }

    @Test
    void aReaderBugIsNotBlamedOnTheCaller() throws Exception {
        AdmissionRequest request = AdmissionReviews.parse(fixture("delete-pod.json").toString());
        assertThatThrownBy(() -> AdmissionReviews.readPod(request.oldObject(), node -> {
            throw new IllegalArgumentException("bug");
        })).isNotInstanceOf(BadAdmissionRequestException.class).hasMessage("bug");
    }

    static io.capo.reservation.PodFacts read(JsonNode node) {
        return PodFactsMapper.from(SERIALIZATION.convertValue(node, Pod.class));
    }
}
