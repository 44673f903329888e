{{/*
Shared helpers of Souk's service charts.

Every public template here takes a "scope": a dict built once by "souk-lib.init" from the
service chart's root context (ctx) and its config (see _service.tpl), holding
  ctx          the service chart's root context (.Values, .Release, .Chart, .Capabilities)
  config       the chart's config: service, seed, env, volumes, volumeMounts
  service      the service name (auth, catalog, ...)
  module       its Python package (souk_auth): `python -m <module> serve|migrate|seed`
  fullname     the name of its Deployment, Service and ServiceAccount (<release>-<service>)
  marketplace  the Marketplace whose Secrets it reads (global.marketplace or the release name)
  authUrl      base URL of auth's Service (global.authUrl, else http://<release>-auth)
  otelEndpoint OTLP/HTTP endpoint for traces, or "" (otel.endpoint, else global.otel.endpoint)
*/}}

{{/* Fill the scope dict passed in (include's output is discarded; dicts are references). */}}
{{- define "souk-lib.init" -}}
{{- $ctx := .ctx -}}
{{- $global := $ctx.Values.global | default dict -}}
{{- $service := required "the service chart's config must name its service" .config.service -}}
{{- $_ := set . "service" $service -}}
{{- $_ = set . "module" (printf "souk_%s" ($service | replace "-" "_")) -}}
{{- $_ = set . "fullname" (include "souk-lib.fullname" .) -}}
{{- $_ = set . "marketplace" (include "souk-lib.marketplace" $ctx) -}}
{{- $_ = set . "authUrl" (include "souk-lib.authUrl" $ctx) -}}
{{- $otel := (($ctx.Values.otel).endpoint) | default (($global.otel).endpoint) | default "" -}}
{{- $_ = set . "otelEndpoint" (tpl $otel $ctx) -}}
{{- end }}

{{/* The Marketplace name (root context): global.marketplace, else the release name. */}}
{{- define "souk-lib.marketplace" -}}
{{- ((.Values.global).marketplace) | default .Release.Name -}}
{{- end }}

{{/* Base URL of auth's Service (root context): global.authUrl, else http://<release>-auth. */}}
{{- define "souk-lib.authUrl" -}}
{{- $url := tpl (((.Values.global).authUrl) | default "") . | default (printf "http://%s-auth" .Release.Name) -}}
{{- trimSuffix "/" $url -}}
{{- end }}

{{/* Name of the service's Deployment, Service and ServiceAccount: <release>-<service>. */}}
{{- define "souk-lib.fullname" -}}
{{- .ctx.Values.fullnameOverride | default (printf "%s-%s" .ctx.Release.Name .config.service) | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/* Labels the Deployment's selector uses: stable for the life of the release. */}}
{{- define "souk-lib.selectorLabels" -}}
app.kubernetes.io/name: souk-{{ .service }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end }}

{{/* Every label of a service's objects; the operator finds the Deployment by souk.dev/*. */}}
{{- define "souk-lib.labels" -}}
{{ include "souk-lib.selectorLabels" . }}
{{ include "souk-lib.commonLabels" . }}
app.kubernetes.io/component: service
souk.dev/service: {{ .service }}
{{- end }}

{{/* Labels shared by all of a release's objects (no name, no component). */}}
{{- define "souk-lib.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: souk
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
souk.dev/marketplace: {{ .marketplace }}
{{- end }}

{{/*
An image reference from its parts: (dict "repository" "ghcr.io/souk/souk-auth" "registry" ""
"tag" "1.2.3"). A non-empty registry replaces the registry host of the repository (its first
path component when that holds a "." or ":" or is "localhost"), or is put in front of a
repository without one (postgres -> r.example/postgres). The same rule is repeated in the
souk-operator chart's "souk-operator.image"; tests/charts/test_global_image.py checks both.
*/}}
{{- define "souk-lib.imageRef" -}}
{{- $repository := .repository -}}
{{- $registry := .registry | default "" | trimSuffix "/" -}}
{{- if $registry -}}
{{- $parts := splitn "/" 2 $repository -}}
{{- if and $parts._1 (or (contains "." $parts._0) (contains ":" $parts._0) (eq $parts._0 "localhost")) -}}
{{- $repository = $parts._1 -}}
{{- end -}}
{{- $repository = printf "%s/%s" $registry $repository -}}
{{- end -}}
{{- printf "%s:%s" $repository (toString .tag) -}}
{{- end }}

{{/*
The chart's image reference. Precedence, field by field: the chart's own image.registry,
image.tag beat global.image.registry, global.image.tag; an empty tag falls back to the chart's
appVersion, an empty registry leaves the repository as it is.
*/}}
{{- define "souk-lib.image" -}}
{{- $image := .ctx.Values.image -}}
{{- $global := (.ctx.Values.global | default dict).image | default dict -}}
{{- include "souk-lib.imageRef" (dict
    "repository" $image.repository
    "registry" ($image.registry | default $global.registry)
    "tag" ($image.tag | default $global.tag | default .ctx.Chart.AppVersion)) -}}
{{- end }}

{{/* The chart's image pull policy: image.pullPolicy, else global.image.pullPolicy, else IfNotPresent. */}}
{{- define "souk-lib.imagePullPolicy" -}}
{{- $global := (.ctx.Values.global | default dict).image | default dict -}}
{{- .ctx.Values.image.pullPolicy | default $global.pullPolicy | default "IfNotPresent" -}}
{{- end }}

{{/*
A scalar as an environment variable value. Helm reads numbers in values files as float64,
which print as 1.2096e+06; whole numbers are printed as integers instead.
*/}}
{{- define "souk-lib.str" -}}
{{- if kindIs "float64" . -}}
{{- if eq (floor .) . -}}{{ int64 . }}{{- else -}}{{ . }}{{- end -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end }}

{{/*
API versions chosen by capability. Against a cluster, .Capabilities lists what the server
serves; `helm template` (no cluster) lists every version helm knows whatever --kube-version
says, so the Kubernetes version decides there: autoscaling/v2 is served from 1.23 (v2beta2
was removed in 1.26), policy/v1 PodDisruptionBudget from 1.21 (v1beta1 removed in 1.25).
Argument: the root context.
*/}}
{{- define "souk-lib.hpa.apiVersion" -}}
{{- if and (.Capabilities.APIVersions.Has "autoscaling/v2") (semverCompare ">=1.23.0-0" .Capabilities.KubeVersion.Version) -}}
autoscaling/v2
{{- else -}}
autoscaling/v2beta2
{{- end -}}
{{- end }}

{{- define "souk-lib.pdb.apiVersion" -}}
{{- if and (.Capabilities.APIVersions.Has "policy/v1") (semverCompare ">=1.21.0-0" .Capabilities.KubeVersion.Version) -}}
policy/v1
{{- else -}}
policy/v1beta1
{{- end -}}
{{- end }}
