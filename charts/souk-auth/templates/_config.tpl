{{/*
What auth adds to the shared templates (see souk-lib's _service.tpl): its settings, and the
signing keys Secret <marketplace>-auth-keys that the operator creates, mounted read-only.
*/}}
{{- define "souk-auth.config" -}}
service: auth
seed: true
env:
  AUTH_SIGNING_KEY_FILE: /var/run/secrets/souk/auth-keys/private.pem
  TRUSTED_PROXY_HOPS: {{ include "souk-lib.str" .Values.trustedProxyHops | quote }}
  COOKIE_SECURE: {{ .Values.cookieSecure | toString | quote }}
  ACCESS_TOKEN_TTL_SECONDS: {{ include "souk-lib.str" .Values.accessTokenTtlSeconds | quote }}
  REFRESH_TOKEN_TTL_SECONDS: {{ include "souk-lib.str" .Values.refreshTokenTtlSeconds | quote }}
volumes:
  - name: auth-keys
    secret:
      secretName: {{ include "souk-lib.marketplace" . }}-auth-keys
      # 0440: readable by the pod's group (fsGroup 10001), writable by nobody.
      defaultMode: 288
volumeMounts:
  - name: auth-keys
    mountPath: /var/run/secrets/souk/auth-keys
    readOnly: true
{{- end }}
