{{/*
"souk-lib.service" renders every object of one Souk service chart. A service chart calls it
from one template with its root context and its config (a named template of its own):

  {{- include "souk-lib.service" (dict "ctx" . "config" (include "souk-auth.config" . | fromYaml)) }}

config keys:
  service       the service name (auth, catalog, orders, payments, notifications)
  seed          true when `python -m souk_<service> seed` loads demo data (auth, catalog)
  env           map of the chart's own settings as environment variables
  volumes       extra pod volumes (auth: its signing keys Secret)
  volumeMounts  where the containers mount them
*/}}
{{- define "souk-lib.service" -}}
{{- $s := dict "ctx" .ctx "config" .config -}}
{{- $_ := include "souk-lib.init" $s -}}
{{- $values := .ctx.Values -}}
{{ include "souk-lib.serviceAccount" $s }}
---
{{ include "souk-lib.kubeService" $s }}
---
{{ include "souk-lib.deployment" $s }}
{{- if $values.autoscaling.enabled }}
---
{{ include "souk-lib.hpa" $s }}
{{- end }}
{{- if $values.podDisruptionBudget.enabled }}
---
{{ include "souk-lib.pdb" $s }}
{{- end }}
{{- if or $values.serviceMonitor.enabled (dig "serviceMonitor" "enabled" false ($values.global | default dict)) }}
---
{{ include "souk-lib.serviceMonitor" $s }}
{{- end }}
{{- if and .config.seed (or (dig "enabled" false ($values.seed | default dict)) (dig "seed" "enabled" false ($values.global | default dict))) }}
---
{{ include "souk-lib.seedJob" $s }}
{{- end }}
{{- end }}

{{- define "souk-lib.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .fullname }}
  labels: {{- include "souk-lib.labels" . | nindent 4 }}
  {{- with .ctx.Values.serviceAccount.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
# The services never call the Kubernetes API: no token in their pods.
automountServiceAccountToken: false
{{- end }}

{{- define "souk-lib.kubeService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .fullname }}
  labels: {{- include "souk-lib.labels" . | nindent 4 }}
  {{- with .ctx.Values.service.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .ctx.Values.service.type }}
  selector: {{- include "souk-lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .ctx.Values.service.port }}
      targetPort: http
      protocol: TCP
{{- end }}

{{/*
The Deployment. Migrations run in an init container with the server's environment, so a new
version serves only after its schema is in place. An init container rather than a pre-install
hook Job: on the first install the database Secret does not exist until the operator has
provisioned the Marketplace, and a hook would hold (then fail) `helm install`; the init
container simply waits for the Secret. Replicas migrating at once are safe: `migrate` takes
a PostgreSQL advisory lock and is idempotent.
*/}}
{{- define "souk-lib.deployment" -}}
{{- $values := .ctx.Values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .fullname }}
  labels: {{- include "souk-lib.labels" . | nindent 4 }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  selector:
    matchLabels: {{- include "souk-lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "souk-lib.labels" . | nindent 8 }}
        {{- with $values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "8000"
        prometheus.io/path: /metrics
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ .fullname }}
      automountServiceAccountToken: false
      # Service links would add <SERVICE>_PORT variables for every Service in the namespace.
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
      securityContext: {{- include "souk-lib.podSecurityContext" . | nindent 8 }}
      {{- with include "souk-lib.scheduling" . | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      {{- if $values.migrations.enabled }}
      initContainers: {{- include "souk-lib.commandContainer" (dict "scope" . "command" "migrate") | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .service }}
          image: {{ include "souk-lib.image" . | quote }}
          imagePullPolicy: {{ include "souk-lib.imagePullPolicy" . }}
          command: [python, -m, {{ .module }}]
          args: [serve, --host, 0.0.0.0, --port, "8000"]
          ports:
            - name: http
              containerPort: 8000
              protocol: TCP
          env: {{- include "souk-lib.env" . | trim | nindent 12 }}
          startupProbe:
            httpGet: {path: /healthz, port: http}
            {{- toYaml $values.probes.startup | nindent 12 }}
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            {{- toYaml $values.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            {{- toYaml $values.probes.readiness | nindent 12 }}
          resources: {{- toYaml $values.resources | nindent 12 }}
          securityContext: {{- include "souk-lib.containerSecurityContext" . | nindent 12 }}
          volumeMounts: {{- include "souk-lib.volumeMounts" . | nindent 12 }}
      volumes: {{- include "souk-lib.volumes" . | nindent 8 }}
{{- end }}

{{- define "souk-lib.hpa" -}}
{{- $autoscaling := .ctx.Values.autoscaling -}}
apiVersion: {{ include "souk-lib.hpa.apiVersion" .ctx }}
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .fullname }}
  labels: {{- include "souk-lib.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .fullname }}
  minReplicas: {{ $autoscaling.minReplicas }}
  maxReplicas: {{ $autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $autoscaling.targetCPUUtilizationPercentage }}
    {{- with $autoscaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
{{- end }}

{{/* minAvailable when set, else maxUnavailable (the default, 1, lets a single replica drain). */}}
{{- define "souk-lib.pdb" -}}
{{- $pdb := .ctx.Values.podDisruptionBudget -}}
apiVersion: {{ include "souk-lib.pdb.apiVersion" .ctx }}
kind: PodDisruptionBudget
metadata:
  name: {{ .fullname }}
  labels: {{- include "souk-lib.labels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" $pdb.minAvailable) }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels: {{- include "souk-lib.selectorLabels" . | nindent 6 }}
{{- end }}

{{/*
ServiceMonitor (Prometheus Operator). The job label is the service name (from the Service's
souk.dev/service label), as Souk's dashboards and alert rules expect (job=<service>).
*/}}
{{- define "souk-lib.serviceMonitor" -}}
{{- $monitor := .ctx.Values.serviceMonitor -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .fullname }}
  labels:
    {{- include "souk-lib.labels" . | nindent 4 }}
    {{- with $monitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  jobLabel: souk.dev/service
  selector:
    matchLabels: {{- include "souk-lib.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ $monitor.interval }}
      scrapeTimeout: {{ $monitor.scrapeTimeout }}
{{- end }}

{{/*
Demo data (seed.enabled or global.seed.enabled; auth's users, catalog's products): a Job per
release revision, so every install and upgrade seeds again (seeding is idempotent) and Helm
deletes the previous revision's Job. Not a hook, so `helm install` never waits for it. It
migrates first (the Deployment may not have yet) and retries until its dependencies answer
(catalog's seed logs in through auth's API). Its pods carry no Service selector labels.
*/}}
{{- define "souk-lib.seedJob" -}}
{{- $values := .ctx.Values -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-seed-%d" .fullname (int .ctx.Release.Revision) | trunc 63 | trimSuffix "-" }}
  labels:
    {{- include "souk-lib.commonLabels" . | nindent 4 }}
    app.kubernetes.io/name: souk-{{ .service }}-seed
    app.kubernetes.io/instance: {{ .ctx.Release.Name }}
    app.kubernetes.io/component: seed
spec:
  backoffLimit: {{ dig "backoffLimit" 12 ($values.seed | default dict) }}
  template:
    metadata:
      labels:
        {{- include "souk-lib.commonLabels" . | nindent 8 }}
        app.kubernetes.io/name: souk-{{ .service }}-seed
        app.kubernetes.io/instance: {{ .ctx.Release.Name }}
        app.kubernetes.io/component: seed
    spec:
      restartPolicy: OnFailure
      serviceAccountName: {{ .fullname }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext: {{- include "souk-lib.podSecurityContext" . | nindent 8 }}
      {{- with include "souk-lib.scheduling" . | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      initContainers: {{- include "souk-lib.commandContainer" (dict "scope" . "command" "migrate") | nindent 8 }}
      containers: {{- include "souk-lib.commandContainer" (dict "scope" . "command" "seed") | nindent 8 }}
      volumes: {{- include "souk-lib.volumes" . | nindent 8 }}
{{- end }}

{{/*
"souk-lib.notes": the NOTES.txt of a service chart, same arguments as "souk-lib.service".
*/}}
{{- define "souk-lib.notes" -}}
{{- $s := dict "ctx" .ctx "config" .config -}}
{{- $_ := include "souk-lib.init" $s -}}
{{- $ns := .ctx.Release.Namespace -}}
Souk {{ $s.service }} is installed: Deployment, Service and ServiceAccount {{ $s.fullname }} in namespace {{ $ns }},
for Marketplace "{{ $s.marketplace }}".

Its pods read the Secrets the Souk operator creates for that Marketplace:
  {{ $s.marketplace }}-{{ $s.service }}-db   (DATABASE_URL)
  {{ $s.marketplace }}-redis   (REDIS_URL, STREAM_PREFIX)
{{- range $s.config.volumes }}
{{- with .secret }}
  {{ .secretName }}   (mounted)
{{- end }}
{{- end }}
Until they exist the pods wait in CreateContainerConfigError; they start by themselves once
the operator has provisioned the Marketplace.

Next:
  kubectl -n {{ $ns }} get mkt {{ $s.marketplace }}                 # READY must become True
  kubectl -n {{ $ns }} rollout status deployment/{{ $s.fullname }}
  kubectl -n {{ $ns }} port-forward service/{{ $s.fullname }} 8000:{{ .ctx.Values.service.port }}
  curl -s localhost:8000/readyz        # then the API: http://localhost:8000/docs
{{- if ne $s.service "auth" }}

Tokens are verified against {{ $s.authUrl }}/.well-known/jwks.json (set global.authUrl when
auth runs under another release).
{{- end }}
{{- end }}
