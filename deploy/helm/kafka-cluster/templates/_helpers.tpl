{{- define "kafka-cluster.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.version | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ebb
{{- end }}

{{/* Brokers over all node pools with the broker role. */}}
{{- define "kafka-cluster.brokers" -}}
{{- $n := 0 }}
{{- range .Values.nodePools }}
{{- if has "broker" .roles }}{{ $n = add $n .replicas }}{{ end }}
{{- end }}
{{- $n }}
{{- end }}
