{{/* notifications needs nothing beyond the shared templates (see souk-lib's _service.tpl). */}}
{{- define "souk-notifications.config" -}}
service: notifications
{{- end }}
