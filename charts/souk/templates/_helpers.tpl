{{/* Helpers of the souk umbrella chart. Each takes the chart's root context. */}}

{{/* The services in topology order (souk_contracts.topology.SERVICES). */}}
{{- define "souk.allServices" -}}
auth catalog orders payments notifications
{{- end }}

{{/* The enabled services, space-separated (a list: `include ... | splitList " "`). */}}
{{- define "souk.services" -}}
{{- $enabled := list -}}
{{- range $service := splitList " " (include "souk.allServices" .) -}}
{{- if (index $.Values $service).enabled -}}
{{- $enabled = append $enabled $service -}}
{{- end -}}
{{- end -}}
{{- join " " $enabled -}}
{{- end }}

{{/*
The Marketplace name. The services read global.marketplace (Helm cannot pass a parent's value
down otherwise), so marketplace.name, when set, must equal it.
*/}}
{{- define "souk.marketplace" -}}
{{- $global := .Values.global.marketplace | default "" -}}
{{- $own := .Values.marketplace.name | default "" -}}
{{- if and $own (ne $own $global) -}}
{{- fail (printf "marketplace.name is %q but global.marketplace is %q: the services find their Secrets by global.marketplace, so set global.marketplace=%s (marketplace.name may then be left empty)" $own $global $own) -}}
{{- end -}}
{{- $own | default $global | default .Release.Name -}}
{{- end }}

{{/* The Kubernetes Service of a service (dict "ctx" . "service" name): <release>-<service>. */}}
{{- define "souk.serviceName" -}}
{{- (index .ctx.Values .service).fullnameOverride | default (printf "%s-%s" .ctx.Release.Name .service) | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/* Labels of the umbrella's own objects; component is added by each template. */}}
{{- define "souk.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: souk
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: souk
app.kubernetes.io/managed-by: {{ .Release.Service }}
souk.dev/marketplace: {{ include "souk.marketplace" . }}
{{- end }}

{{/* The URL the shop answers at through the Ingress (for NOTES). */}}
{{- define "souk.url" -}}
{{- $scheme := ternary "https" "http" .Values.ingress.tls.enabled -}}
{{- if .Values.ingress.host -}}
{{ $scheme }}://{{ .Values.ingress.host }}
{{- else -}}
{{ $scheme }}://<ingress address>
{{- end -}}
{{- end }}

{{/* A label map as a selector string: a=b,c=d (argument: the map). */}}
{{- define "souk.labelList" -}}
{{- $pairs := list -}}
{{- range $key, $value := . -}}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end }}

{{/*
The image of a Managed PostgreSQL or Redis server for the Marketplace:
(dict "ctx" $ "image" <marketplace.*.managed.image> "default" "postgres:16-alpine").
An own image (a full reference) wins. Else, when global.image.registry or global.image.tag is
set, the operator's default image with that registry and tag; else nothing (the operator's
default). The defaults equal souk_operator.model.POSTGRES_IMAGE and REDIS_IMAGE
(tests/charts/test_global_image.py checks it).
*/}}
{{- define "souk.managedImage" -}}
{{- $global := (.ctx.Values.global | default dict).image | default dict -}}
{{- if .image -}}
{{- .image -}}
{{- else if or $global.registry $global.tag -}}
{{- $parts := splitn ":" 2 .default -}}
{{- include "souk-lib.imageRef" (dict "repository" $parts._0 "registry" $global.registry "tag" ($global.tag | default $parts._1)) -}}
{{- end -}}
{{- end }}

{{/*
The collector's image: its own image.registry and image.tag beat global.image.registry and
global.image.tag; with neither tag set, the tested collector release 0.114.0.
*/}}
{{- define "souk.collectorImage" -}}
{{- $image := .Values.observability.collector.image -}}
{{- $global := (.Values.global | default dict).image | default dict -}}
{{- include "souk-lib.imageRef" (dict "repository" $image.repository "registry" ($image.registry | default $global.registry) "tag" ($image.tag | default $global.tag | default "0.114.0")) -}}
{{- end }}
