{{/*
What catalog adds to the shared templates (see souk-lib's _service.tpl): its settings. Its
seed finds the demo seller through auth's API (AUTH_URL).
*/}}
{{- define "souk-catalog.config" -}}
service: catalog
seed: true
env:
  LOW_STOCK_THRESHOLD: {{ include "souk-lib.str" .Values.lowStockThreshold | quote }}
  LISTING_CACHE_SECONDS: {{ include "souk-lib.str" .Values.listingCache.seconds | quote }}
  LISTING_CACHE_ENTRIES: {{ include "souk-lib.str" .Values.listingCache.entries | quote }}
  AUTH_URL: {{ include "souk-lib.authUrl" . | quote }}
{{- end }}
