{{/* What orders adds to the shared templates (see souk-lib's _service.tpl): its settings. */}}
{{- define "souk-orders.config" -}}
service: orders
env:
  ORDER_DEADLINE_SECONDS: {{ include "souk-lib.str" .Values.orderDeadlineSeconds | quote }}
{{- end }}
