{{/* Shared names, labels, RBAC rules and API-version choices of the souk-operator chart. */}}

{{/* The chart name (nameOverride wins). */}}
{{- define "souk-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of the Deployment, ServiceAccount, Lease and Services: the release name when it
already contains the chart name (the usual "souk-operator" release), else "<release>-<chart>". */}}
{{- define "souk-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "souk-operator.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "souk-operator.labels" -}}
app.kubernetes.io/name: {{ include "souk-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: souk
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "souk-operator.selector" -}}
app.kubernetes.io/name: {{ include "souk-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Cluster-scoped objects carry the namespace so two releases never collide. */}}
{{- define "souk-operator.clusterName" -}}
{{ .Release.Namespace }}-{{ include "souk-operator.fullname" . }}
{{- end }}

{{/*
The operator's image: the own image.registry and image.tag beat global.image.registry and
global.image.tag; an empty tag is the chart's appVersion. A registry replaces the registry host
of image.repository (the rule of souk-lib's "souk-lib.imageRef", repeated here because this
chart does not depend on souk-lib).
*/}}
{{- define "souk-operator.image" -}}
{{- $image := .Values.image -}}
{{- $global := (.Values.global | default dict).image | default dict -}}
{{- $repository := $image.repository -}}
{{- $registry := $image.registry | default $global.registry | default "" | trimSuffix "/" -}}
{{- if $registry -}}
{{- $parts := splitn "/" 2 $repository -}}
{{- if and $parts._1 (or (contains "." $parts._0) (contains ":" $parts._0) (eq $parts._0 "localhost")) -}}
{{- $repository = $parts._1 -}}
{{- end -}}
{{- $repository = printf "%s/%s" $registry $repository -}}
{{- end -}}
{{- printf "%s:%s" $repository (toString ($image.tag | default $global.tag | default .Chart.AppVersion)) -}}
{{- end }}

{{/* The pull policy: image.pullPolicy, else global.image.pullPolicy, else IfNotPresent. */}}
{{- define "souk-operator.imagePullPolicy" -}}
{{- $global := (.Values.global | default dict).image | default dict -}}
{{- .Values.image.pullPolicy | default $global.pullPolicy | default "IfNotPresent" -}}
{{- end }}

{{/* The watched namespaces as a list (empty: the whole cluster). */}}
{{- define "souk-operator.namespaces" -}}
{{- $namespaces := list }}
{{- range splitList "," .Values.watchNamespaces }}
{{- if trim . }}{{ $namespaces = append $namespaces (trim .) }}{{ end }}
{{- end }}
{{- toJson (uniq $namespaces) }}
{{- end }}

{{/*
The permissions the operator's code uses, and no more (tests/charts/test_operator_chart.py
pins this exact set; the envtests run the operator with it). Every resource is namespaced,
so the same rules serve a ClusterRole (watch all) or one Role per watched namespace.
- marketplaces: kopf lists/watches them and patches finalizer and progress annotations; the
  reconciler re-reads the latest version (get) and merge-patches the status subresource.
- secrets: read the referenced admin/Redis URL Secrets (get), and create, update (patch),
  list (by label, to find orphans) and delete the Secrets it owns. Secret names are
  computed from each Marketplace, so resourceNames cannot narrow this.
- statefulsets, services: Managed-mode servers (read, create, patch, list, delete).
- persistentvolumeclaims: Managed mode's claims, deleted with deletionPolicy Delete.
- deployments: read-only list/watch for the ServicesReady condition.
- events: kopf posts core/v1 Events (create only; events.k8s.io is not used).
*/}}
{{- define "souk-operator.rules" -}}
- apiGroups: [souk.dev]
  resources: [marketplaces]
  verbs: [get, list, watch, patch]
- apiGroups: [souk.dev]
  resources: [marketplaces/status]
  verbs: [patch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, create, patch, delete]
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list, create, patch, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, create, patch, delete]
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [list, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}

{{/*
PodDisruptionBudget API by capability: policy/v1 where the server serves it (1.21+),
policy/v1beta1 before. `helm template` has no server, so its kind-level capabilities are
empty: the Kubernetes version (--kube-version) decides there.
*/}}
{{- define "souk-operator.pdbApiVersion" -}}
{{- if or (.Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget") (semverCompare ">=1.21.0-0" .Capabilities.KubeVersion.Version) -}}
policy/v1
{{- else -}}
policy/v1beta1
{{- end }}
{{- end }}
