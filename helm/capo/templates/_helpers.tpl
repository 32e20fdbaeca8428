{{/* Chart name, possibly overridden. */}}
{{- define "capo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, plus the chart name when the release name does not contain it. */}}
{{- define "capo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Namespace of the namespaced objects: the Go Capo chart's `namespace` value, else the release namespace. */}}
{{- define "capo.namespace" -}}
{{- default .Release.Namespace .Values.namespace }}
{{- end }}

{{- define "capo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "capo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "capo.labels" -}}
helm.sh/chart: {{ include "capo.chart" . }}
{{ include "capo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: capo
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "capo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "capo.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "capo.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/* Port of an address such as ":8080" or "0.0.0.0:8080". */}}
{{- define "capo.port" -}}
{{- if not (regexMatch "^.*:[0-9]+$" (toString .)) }}
{{- fail (printf "%q is not an address of the form :8080 or host:8080" (toString .)) }}
{{- end }}
{{- regexReplaceAll "^.*:" (toString .) "" }}
{{- end }}

{{- define "capo.managementPort" -}}
{{- include "capo.port" .Values.config.metricsBindAddress }}
{{- end }}

{{- define "capo.webhookServiceName" -}}
{{- printf "%s-webhook-service" (include "capo.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "capo.metricsServiceName" -}}
{{- printf "%s-metrics-service" (include "capo.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "capo.certSecretName" -}}
{{- printf "%s-webhook-tls" (include "capo.fullname" .) }}
{{- end }}

{{- define "capo.servingCertName" -}}
{{- printf "%s-serving-cert" (include "capo.fullname" .) }}
{{- end }}

{{- define "capo.configMapName" -}}
{{- printf "%s-manager-config" (include "capo.fullname" .) }}
{{- end }}

{{- define "capo.routesConfigMapName" -}}
{{- printf "%s-routes" (include "capo.fullname" .) }}
{{- end }}

{{- define "capo.leaseNamespace" -}}
{{- default (include "capo.namespace" $) .Values.config.leaderElection.resourceNamespace }}
{{- end }}

{{/* The names of Capo's IPReservation objects, quoted and comma-separated: name, name-1, ... name-(n-1). */}}
{{- define "capo.reservationObjectNames" -}}
{{- $names := list -}}
{{- range $i := until (int .Values.config.reservationObjects) -}}
{{- $names = append $names (quote (ternary $.Values.config.reservationObjectName (printf "%s-%d" $.Values.config.reservationObjectName $i) (eq $i 0))) -}}
{{- end -}}
{{- join ", " $names -}}
{{- end }}

{{/*
Lease rules. Capo reads, creates and renews (a JSON merge patch) one Lease; create cannot be limited by name.
Without leader election each replica uses a Lease named after its pod, which no resourceNames can list.
*/}}
{{- define "capo.leaseRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  {{- if .Values.config.leaderElectionEnable }}
  resourceNames: [{{ .Values.config.leaderElection.resourceName | quote }}]
  {{- end }}
  verbs: ["get", "update", "patch"]
{{- end }}

{{/* The API group of IPReservation for config.calicoApiVersion. */}}
{{- define "capo.calicoGroup" -}}
{{- $v := .Values.config.calicoApiVersion }}
{{- if eq $v "projectcalico.org/v3" }}projectcalico.org
{{- else if eq $v "crd.projectcalico.org/v1" }}crd.projectcalico.org
{{- else }}{{ fail (printf "config.calicoApiVersion %q is not supported (projectcalico.org/v3 or crd.projectcalico.org/v1)" $v) }}
{{- end }}
{{- end }}

{{/* namespaceLabel "key=value" as a YAML mapping. */}}
{{- define "capo.namespaceMatchLabels" -}}
{{- $label := toString .Values.config.namespaceLabel }}
{{- if not (regexMatch "^[^=]+=[^=]*$" $label) }}
{{- fail (printf "config.namespaceLabel %q is not in the form key=value" $label) }}
{{- end }}
{{- $parts := splitn "=" 2 $label }}
{{- printf "%s: %s" $parts._0 ($parts._1 | quote) }}
{{- end }}

{{/* DNS names of the webhook Service, as a JSON list. */}}
{{- define "capo.webhookDnsNames" -}}
{{- $svc := include "capo.webhookServiceName" . }}
{{- list $svc (printf "%s.%s" $svc (include "capo.namespace" $)) (printf "%s.%s.svc" $svc (include "capo.namespace" $)) (printf "%s.%s.svc.cluster.local" $svc (include "capo.namespace" $)) | toJson }}
{{- end }}

{{/* JAVA_TOOL_OPTIONS: the javaToolOptions value, plus the client-certificate settings of the webhook port */}}
{{- define "capo.javaToolOptions" -}}
{{- $options := .Values.javaToolOptions -}}
{{- $auth := .Values.webhook.clientAuth -}}
{{- if $auth.enabled -}}
{{- if or (and $auth.caSecret $auth.caConfigMap) (not (or $auth.caSecret $auth.caConfigMap)) -}}
{{- fail "webhook.clientAuth.enabled needs exactly one of webhook.clientAuth.caSecret and webhook.clientAuth.caConfigMap" -}}
{{- end -}}
{{- $options = printf "%s -Dcapo.tls.clientCaFile=/etc/capo/client-ca/ca.crt" $options -}}
{{- with $auth.allowedNames -}}
{{- range . -}}
{{- if not (regexMatch "^[A-Za-z0-9*:._-]+$" .) -}}
{{- fail (printf "webhook.clientAuth.allowedNames: %q is not a DNS name or CN without spaces and commas" .) -}}
{{- end -}}
{{- end -}}
{{- $options = printf "%s -Dcapo.tls.clientAllowedNames=%s" $options (join "," .) -}}
{{- end -}}
{{- end -}}
{{- $options -}}
{{- end -}}

{{/*
CEL of the webhook's matchCondition capo-may-park: false only for a pod deletion that Capo would allow without
parking, because the pod (oldObject) matches config.labelSelector under config.selectorMode as Capo's Selection does
and carries no capo.io/ip-reserve annotation (which can select a pod whatever its labels). Anything else, including
evictions (whose object is an Eviction, not the pod) and a deletion without oldObject, calls Capo.
*/}}
{{- define "capo.mayParkExpression" -}}
{{- $labels := "oldObject.metadata.labels" -}}
{{- $has := "has(oldObject.metadata.labels)" -}}
{{- $terms := list -}}
{{- $sel := .Values.config.labelSelector -}}
{{- range $key, $value := ($sel.matchLabels | default dict) -}}
{{- $terms = append $terms (printf "(%s && '%s' in %s && %s['%s'] == '%s')" $has $key $labels $labels $key (toString $value)) -}}
{{- end -}}
{{- range ($sel.matchExpressions | default list) -}}
{{- $in := printf "%s && '%s' in %s" $has .key $labels -}}
{{- $values := list -}}
{{- range (.values | default list) -}}{{- $values = append $values (printf "'%s'" (toString .)) -}}{{- end -}}
{{- if eq .operator "In" -}}
{{- $terms = append $terms (printf "(%s && %s['%s'] in [%s])" $in $labels .key (join ", " $values)) -}}
{{- else if eq .operator "NotIn" -}}
{{- $terms = append $terms (printf "!(%s && %s['%s'] in [%s])" $in $labels .key (join ", " $values)) -}}
{{- else if eq .operator "Exists" -}}
{{- $terms = append $terms (printf "(%s)" $in) -}}
{{- else if eq .operator "DoesNotExist" -}}
{{- $terms = append $terms (printf "!(%s)" $in) -}}
{{- else -}}
{{- fail (printf "config.labelSelector.matchExpressions: operator %q is not In, NotIn, Exists or DoesNotExist" (toString .operator)) -}}
{{- end -}}
{{- end -}}
{{- $selector := "" -}}
{{- if eq .Values.config.selectorMode "allOf" -}}
{{- $selector = ternary "true" (join " && " $terms) (empty $terms) -}}
{{- else -}}
{{- $selector = ternary "false" (join " || " $terms) (empty $terms) -}}
{{- end -}}
request.operation != 'DELETE' || oldObject == null || (has(oldObject.metadata.annotations) && 'capo.io/ip-reserve' in oldObject.metadata.annotations) || ({{ $selector }})
{{- end }}
