{{- define "souk-operator.labels" -}}
app.kubernetes.io/name: souk-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: souk
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "souk-operator.selector" -}}
app.kubernetes.io/name: souk-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{/* Cluster-scoped objects carry the namespace so two releases never collide. */}}
{{- define "souk-operator.clusterName" -}}
{{ .Release.Namespace }}-{{ .Release.Name }}
{{- end }}
