{{/* The release's name for every object (one dashboard per release). */}}
{{- define "dashboard.fullname" -}}
{{- if contains "dashboard" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-dashboard" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{/* Labels every object of the chart carries. */}}
{{- define "dashboard.labels" -}}
app.kubernetes.io/name: smelt-dashboard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: smelt
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* What the Service, the PodDisruptionBudget and the NetworkPolicy select: the dashboard pods. */}}
{{- define "dashboard.selector" -}}
app.kubernetes.io/name: smelt-dashboard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: web
{{- end }}

{{/* The Secret holding the Snowflake private key: snowflake.keySecretName, else one per release. */}}
{{- define "dashboard.snowflakeKeySecret" -}}
{{- .Values.snowflake.keySecretName | default (printf "%s-snowflake" (include "dashboard.fullname" .)) -}}
{{- end }}

{{- define "dashboard.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "dashboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "dashboard.fullname" .) -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create=false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end }}

{{/* The port the Service forwards to: the oauth2-proxy sidecar's, or the app's. */}}
{{- define "dashboard.targetPort" -}}
{{- if eq .Values.auth.mode "oauth2-proxy" -}}proxy{{- else -}}http{{- end -}}
{{- end }}
{{- define "dashboard.targetPortNumber" -}}
{{- if eq .Values.auth.mode "oauth2-proxy" -}}{{ .Values.auth.oauth2Proxy.port }}{{- else -}}{{ .Values.dashboard.port }}{{- end -}}
{{- end }}

{{/*
Refuse what must not be deployed: a dashboard reachable from outside the cluster without authentication
(unless auth.allowAnonymous=true says so explicitly), and settings a mode cannot work without.
*/}}
{{- define "dashboard.validate" -}}
{{- $public := or .Values.ingress.enabled (ne .Values.service.type "ClusterIP") -}}
{{- if and $public (eq .Values.auth.mode "none") (not .Values.auth.allowAnonymous) -}}
{{- fail "refusing to expose the dashboard without authentication: ingress.enabled=true (or service.type NodePort/LoadBalancer) needs auth.mode=basic or auth.mode=oauth2-proxy; set auth.allowAnonymous=true only if anonymous access is intended" -}}
{{- end -}}
{{- if and (eq .Values.auth.mode "basic") (not .Values.auth.basic.existingSecret) -}}
{{- fail "auth.mode=basic needs auth.basic.existingSecret: a Secret whose key `users` holds lines of user:hash (smelt dashboard hash-password)" -}}
{{- end -}}
{{- if and (eq .Values.auth.mode "oauth2-proxy") (not .Values.auth.oauth2Proxy.existingSecret) -}}
{{- fail "auth.mode=oauth2-proxy needs auth.oauth2Proxy.existingSecret with keys client-id, client-secret and cookie-secret" -}}
{{- end -}}
{{- if and (eq .Values.warehouse "snowflake") (not .Values.snowflake.account) -}}
{{- fail "warehouse=snowflake needs snowflake.account (e.g. xy12345.eu-central-1)" -}}
{{- end -}}
{{- end }}
