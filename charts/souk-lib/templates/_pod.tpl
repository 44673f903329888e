{{/*
Pieces of a Souk service pod shared by the Deployment and the demo-data Job: environment,
security contexts, volumes. Each takes the scope built by "souk-lib.init".
*/}}

{{/*
The environment of every container of the service (server, migrations, seed).

From the operator's Secrets, by the names the operator gives them (DESIGN.md):
  <marketplace>-<service>-db  DATABASE_URL
  <marketplace>-redis         REDIS_URL, STREAM_PREFIX, STREAM_MAX_LENGTH/_DELIVERIES (optional)
Then CONSUMER_NAME from the pod name (each replica its own stream consumer), the settings every
service reads, the chart's own settings (config.env) and, last, the `env` value, which
overrides any variable above of the same name.
*/}}
{{- define "souk-lib.env" -}}
{{- $values := .ctx.Values -}}
{{- $user := $values.env | default dict -}}
{{- $db := printf "%s-%s-db" .marketplace .service -}}
{{- $redis := printf "%s-redis" .marketplace -}}
{{- $refs := list
  (list "DATABASE_URL" $db false)
  (list "REDIS_URL" $redis false)
  (list "STREAM_PREFIX" $redis false)
  (list "STREAM_MAX_LENGTH" $redis true)
  (list "STREAM_MAX_DELIVERIES" $redis true) -}}
{{- range $refs }}
{{- if not (hasKey $user (index . 0)) }}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 }}
      key: {{ index . 0 }}
      {{- if index . 2 }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- if not (hasKey $user "CONSUMER_NAME") }}
- name: CONSUMER_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{- $plain := dict "SERVICE_NAME" .service "OTEL_SERVICE_NAME" .service "LOG_LEVEL" $values.logLevel "LOG_FORMAT" "json" -}}
{{- if ne .service "auth" }}
{{- $_ := set $plain "AUTH_JWKS_URL" (printf "%s/.well-known/jwks.json" .authUrl) }}
{{- end }}
{{- with .otelEndpoint }}
{{- $_ := set $plain "OTEL_EXPORTER_OTLP_ENDPOINT" . }}
{{- end }}
{{- range $name, $value := .config.env }}
{{- $_ := set $plain $name (include "souk-lib.str" $value) }}
{{- end }}
{{- range $name, $value := $user }}
{{- $_ := set $plain $name (include "souk-lib.str" $value) }}
{{- end }}
{{- range $name, $value := $plain }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* Pod security: non-root uid/gid 10001 (the image's user), RuntimeDefault seccomp. */}}
{{- define "souk-lib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container security: read-only root filesystem, no privilege escalation, no capabilities. */}}
{{- define "souk-lib.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Volumes: a writable /tmp (the root filesystem is read-only) plus the chart's own. */}}
{{- define "souk-lib.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- with .config.volumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "souk-lib.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- with .config.volumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Scheduling fields of the pod spec taken from values, when set. */}}
{{- define "souk-lib.scheduling" -}}
{{- $values := .ctx.Values -}}
{{- with $values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.topologySpreadConstraints }}
topologySpreadConstraints: {{- tpl (toYaml .) $.ctx | nindent 2 }}
{{- end }}
{{- with $values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A container running `python -m souk_<service> <command>` (migrate, seed). */}}
{{- define "souk-lib.commandContainer" -}}
{{- $s := .scope -}}
- name: {{ .command }}
  image: {{ include "souk-lib.image" $s | quote }}
  imagePullPolicy: {{ include "souk-lib.imagePullPolicy" $s }}
  command: [python, -m, {{ $s.module }}]
  args: [{{ .command }}]
  env: {{- include "souk-lib.env" $s | trim | nindent 4 }}
  resources: {{- toYaml $s.ctx.Values.resources | nindent 4 }}
  securityContext: {{- include "souk-lib.containerSecurityContext" $s | nindent 4 }}
  volumeMounts: {{- include "souk-lib.volumeMounts" $s | nindent 4 }}
{{- end }}
