{{/* Names, labels and the pieces every ebb container shares. */}}

{{- define "ebb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* release-chart, or the release name when it already contains the chart name; 63 characters at most. */}}
{{- define "ebb.fullname" -}}
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

{{- define "ebb.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name of one component: ebb.componentName (list $ "consumer"). */}}
{{- define "ebb.componentName" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s" (include "ebb.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ebb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ebb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ebb.labels" -}}
helm.sh/chart: {{ include "ebb.chart" . }}
{{ include "ebb.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ebb
{{- end }}

{{/* Labels of one component's objects: ebb.componentLabels (list $ "consumer"). */}}
{{- define "ebb.componentLabels" -}}
{{ include "ebb.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Selector of one component's pods: ebb.componentSelectorLabels (list $ "consumer"). */}}
{{- define "ebb.componentSelectorLabels" -}}
{{ include "ebb.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "ebb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ebb.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ebb.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Whether an autoscaler owns the consumer Deployment's replicas. */}}
{{- define "ebb.autoscaled" -}}
{{- if ne .Values.scaling.mode "none" }}true{{- end }}
{{- end }}

{{/*
Environment of every ebb container: the cluster, the client properties and logging. Properties from a
Secret are appended by Kubernetes' $(VAR) expansion, so they never appear in the pod spec.
*/}}
{{- define "ebb.commonEnv" -}}
- name: EBB_BOOTSTRAP_SERVERS
  value: {{ required "kafka.bootstrapServers is required" .Values.kafka.bootstrapServers | quote }}
- name: EBB_LOG_FORMAT
  value: {{ .Values.log.format | quote }}
- name: EBB_LOG_LEVEL
  value: {{ .Values.log.level | quote }}
{{- $properties := list }}
{{- range $key, $value := .Values.kafka.properties }}
{{- $properties = append $properties (printf "%s=%v" $key $value) }}
{{- end }}
{{- $properties = concat (include "ebb.securityProperties" . | fromYamlArray) $properties }}
{{- if .Values.kafka.sasl.mechanism }}
{{- $sasl := .Values.kafka.sasl }}
- name: EBB_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ include "ebb.credentialsSecret" . | quote }}
      key: {{ $sasl.usernameKey | quote }}
- name: EBB_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "ebb.credentialsSecret" . | quote }}
      key: {{ $sasl.passwordKey | quote }}
{{- end }}
{{- if .Values.kafka.propertiesSecret.name }}
- name: EBB_SECRET_PROPERTIES
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.propertiesSecret.name | quote }}
      key: {{ .Values.kafka.propertiesSecret.key | quote }}
{{- $properties = append $properties "$(EBB_SECRET_PROPERTIES)" }}
{{- end }}
{{- if $properties }}
- name: EBB_PROPERTIES
  value: {{ join ";" $properties | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Client properties from kafka.sasl and kafka.tls, as a YAML list of key=value (kafka.properties come
after them and win). The credentials are Kubernetes $(VAR) references to the Secret's env vars, so the
pod spec holds none; the CA is the mounted Secret's file.
*/}}
{{- define "ebb.securityProperties" -}}
{{- $sasl := .Values.kafka.sasl }}
{{- $tls := .Values.kafka.tls }}
{{- $out := list }}
{{- if and $sasl.mechanism $tls.enabled }}
{{- $out = append $out "security.protocol=SASL_SSL" }}
{{- else if $sasl.mechanism }}
{{- $out = append $out "security.protocol=SASL_PLAINTEXT" }}
{{- else if $tls.enabled }}
{{- $out = append $out "security.protocol=SSL" }}
{{- end }}
{{- if $sasl.mechanism }}
{{- $out = concat $out (list (printf "sasl.mechanism=%s" $sasl.mechanism) "sasl.username=$(EBB_SASL_USERNAME)" "sasl.password=$(EBB_SASL_PASSWORD)") }}
{{- end }}
{{- if include "ebb.caSecret" . }}
{{- $out = append $out "ssl.ca.location=/etc/ebb/kafka-ca/ca.crt" }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* The Secret with the SASL credentials: the user's, or the one the chart creates. */}}
{{- define "ebb.credentialsSecret" -}}
{{- default (include "ebb.componentName" (list . "kafka-credentials")) .Values.kafka.sasl.existingSecret }}
{{- end }}

{{/* The Secret with the brokers' CA certificate, empty when TLS uses the system trust store. */}}
{{- define "ebb.caSecret" -}}
{{- $tls := .Values.kafka.tls }}
{{- if and $tls.enabled $tls.caSecret }}
{{- $tls.caSecret }}
{{- else if and $tls.enabled $tls.ca }}
{{- include "ebb.componentName" (list . "kafka-ca") }}
{{- end }}
{{- end }}

{{/* Whether the chart creates KEDA's TriggerAuthentication (keda-kafka, security set, no ref given). */}}
{{- define "ebb.kedaAuthentication" -}}
{{- $s := .Values.scaling }}
{{- $secured := or .Values.kafka.sasl.mechanism (include "ebb.caSecret" .) }}
{{- if and (eq $s.mode "keda-kafka") $secured (not $s.kedaKafka.authenticationRef) }}true{{- end }}
{{- end }}

{{/* KEDA's kafka trigger names for the SASL mechanism. */}}
{{- define "ebb.kedaSasl" -}}
{{- $m := .Values.kafka.sasl.mechanism }}
{{- if eq $m "SCRAM-SHA-512" }}scram_sha512{{ else if eq $m "SCRAM-SHA-256" }}scram_sha256{{ else if eq $m "PLAIN" }}plaintext{{ end }}
{{- end }}

{{/* Pod-level settings shared by every ebb pod. */}}
{{- define "ebb.podCommon" -}}
serviceAccountName: {{ include "ebb.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpSizeLimit }}
{{- with include "ebb.caSecret" . }}
  - name: kafka-ca
    secret:
      secretName: {{ . | quote }}
      defaultMode: 0444
      items:
        - key: {{ $.Values.kafka.tls.caKey | quote }}
          path: ca.crt
{{- end }}
{{- with .Values.extraVolumes }}
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Container-level settings shared by every ebb container. */}}
{{- define "ebb.containerCommon" -}}
image: {{ include "ebb.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- if include "ebb.caSecret" . }}
  - name: kafka-ca
    mountPath: /etc/ebb/kafka-ca
    readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Fails the render on value combinations the schema cannot express. */}}
{{- define "ebb.validate" -}}
{{- $c := .Values.consumer }}
{{- if le (float64 $c.terminationGracePeriodSeconds) (float64 $c.gracePeriod) }}
{{- fail (printf "consumer.terminationGracePeriodSeconds (%v) must exceed consumer.gracePeriod (%v): Kubernetes would SIGKILL a consumer that is still draining" $c.terminationGracePeriodSeconds $c.gracePeriod) }}
{{- end }}
{{- $s := .Values.scaling }}
{{- if gt (int $s.minReplicas) (int $s.maxReplicas) }}
{{- fail (printf "scaling.minReplicas (%v) must not exceed scaling.maxReplicas (%v)" $s.minReplicas $s.maxReplicas) }}
{{- end }}
{{- if and (eq $s.mode "hpa") (lt (int $s.minReplicas) 1) }}
{{- fail "scaling.minReplicas must be at least 1 with scaling.mode hpa (scale to zero needs KEDA)" }}
{{- end }}
{{- $k := $s.kedaKafka }}
{{- if and $k.allowIdleConsumers $k.limitToPartitionsWithLag }}
{{- fail "scaling.kedaKafka: allowIdleConsumers and limitToPartitionsWithLag cannot both be true (KEDA rejects the trigger)" }}
{{- end }}
{{- if and $k.ensureEvenDistributionOfPartitions $k.limitToPartitionsWithLag }}
{{- fail "scaling.kedaKafka: ensureEvenDistributionOfPartitions and limitToPartitionsWithLag cannot both be true (KEDA rejects the trigger)" }}
{{- end }}
{{- $sasl := .Values.kafka.sasl }}
{{- if and $sasl.mechanism (not $sasl.existingSecret) (not (and $sasl.username $sasl.password)) }}
{{- fail "kafka.sasl.mechanism is set: name an existing credentials Secret (kafka.sasl.existingSecret) or give kafka.sasl.username and kafka.sasl.password for the chart to create one" }}
{{- end }}
{{- if and (not .Values.kafka.tls.enabled) (or .Values.kafka.tls.caSecret .Values.kafka.tls.ca) }}
{{- fail "kafka.tls.caSecret or kafka.tls.ca is set but kafka.tls.enabled is false: the CA would be ignored" }}
{{- end }}
{{- if and (eq $c.groupType "share") (eq .Values.scaling.mode "keda-kafka") }}
{{- fail "consumer.groupType share: KEDA's kafka trigger reads consumer-group offsets only; scale a share group with scaling.mode keda-ebb (ebb's policy through KEDA's external trigger), hpa or none" }}
{{- end }}
{{- if and (ne $c.groupProtocol "classic") $c.assignor }}
{{- fail "consumer.assignor applies to the classic protocol only: set consumer.groupProtocol to classic or leave the assignor empty" }}
{{- end }}
{{- end }}

{{/* keda-ebb: the policy's replica bounds from scaling.min/maxReplicas, unless its settings set them. */}}
{{- define "ebb.scalerBounds" -}}
{{- $s := .Values.scaling }}
{{- if eq $s.kedaEbb.policy "slo" }}
min-replicas: {{ $s.minReplicas | quote }}
max-replicas: {{ $s.maxReplicas | quote }}
{{- else if eq $s.kedaEbb.policy "keda" }}
minReplicaCount: {{ $s.minReplicas | quote }}
maxReplicaCount: {{ $s.maxReplicas | quote }}
{{- end }}
{{- end }}

{{/*
keda-ebb's HPA behavior unless scaling.keda.behavior is set: the HPA applies ebb's count as it is.
ebb reports its desired replicas against a target of 1, so ceil(value / target) is that count; no
stabilization, no tolerance (the controller's 10 % would swallow a one-replica step from 10 up;
Kubernetes 1.33+ reads it) and no rate limit below maxReplicas, since ebb's policy already chose
when and how far to move.
*/}}
{{- define "ebb.followBehavior" -}}
scaleUp:
  stabilizationWindowSeconds: 0
  tolerance: "0"
  selectPolicy: Max
  policies:
    - type: Pods
      value: {{ .Values.scaling.maxReplicas }}
      periodSeconds: 15
scaleDown:
  stabilizationWindowSeconds: 0
  tolerance: "0"
  selectPolicy: Max
  policies:
    - type: Percent
      value: 100
      periodSeconds: 15
{{- end }}
