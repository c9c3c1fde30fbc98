{{/*
The restricted Pod Security Standard, for the pods a smelt chart runs itself. charts/pipeline and
charts/dashboard carry this same file (_security.tpl); tests/manifests/test_charts_together.py keeps the two
identical.
*/}}
{{- define "smelt.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}
{{- define "smelt.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}
