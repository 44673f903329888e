{{/* payments needs nothing beyond the shared templates (see souk-lib's _service.tpl). */}}
{{- define "souk-payments.config" -}}
service: payments
{{- end }}
