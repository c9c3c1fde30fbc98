{{/* Labels every object of the chart carries. */}}
{{- define "pipeline.labels" -}}
app.kubernetes.io/name: smelt-pipeline
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: smelt
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "pipeline.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The restricted Pod Security Standard, for the pods this chart runs itself (simulator, S3 server, bucket job). */}}
{{- define "pipeline.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}
{{- define "pipeline.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
One Argo manifest rendered by Hera (files/argo/<warehouse>/<name>.yaml), with this release's values applied:
the image, pull policy and resources of every step container, the universe, the chart's labels, the
schedule of the CronWorkflow, and the run_results artifact only where an artifact repository exists.
Hera renders structure only: the schedule (time zone, suspension, deadline, history limits) and the universe
are set here alone, from values.yaml.
The file is parsed as data (fromYaml), so Argo's {{workflow.…}} expressions pass through untouched.
*/}}
{{- define "pipeline.argo" -}}
{{- $root := .root -}}
{{- $path := printf "files/argo/%s/%s.yaml" $root.Values.warehouse .name -}}
{{- $doc := $root.Files.Get $path | fromYaml -}}
{{- if not $doc.metadata -}}{{- fail (printf "%s is missing or empty: run `smelt argo render`" $path) -}}{{- end -}}
{{- $_ := set $doc.metadata "labels" (merge (include "pipeline.labels" $root | fromYaml) $doc.metadata.labels) -}}
{{- $spec := $doc.spec -}}
{{- if eq $doc.kind "CronWorkflow" -}}
{{- $_ := set $spec "schedules" $root.Values.schedule.crons -}}
{{- $_ := set $spec "timezone" $root.Values.schedule.timezone -}}
{{- $_ := set $spec "suspend" $root.Values.schedule.suspend -}}
{{- $_ := set $spec "startingDeadlineSeconds" $root.Values.schedule.startingDeadlineSeconds -}}
{{- $_ := set $spec "successfulJobsHistoryLimit" $root.Values.schedule.successfulJobsHistoryLimit -}}
{{- $_ := set $spec "failedJobsHistoryLimit" $root.Values.schedule.failedJobsHistoryLimit -}}
{{- $spec = $spec.workflowSpec -}}
{{- end -}}
{{- range $param := (($spec.arguments | default dict).parameters | default list) -}}
{{- if eq $param.name "underlyings" -}}{{- $_ := set $param "value" (toJson $root.Values.universe) -}}{{- end -}}
{{- end -}}
{{- range $template := ($spec.templates | default list) -}}
{{- with $template.container -}}
{{- $_ := set . "image" (include "pipeline.image" $root) -}}
{{- $_ := set . "imagePullPolicy" $root.Values.image.pullPolicy -}}
{{- with (get $root.Values.resources $template.name) -}}{{- $_ := set $template.container "resources" . -}}{{- end -}}
{{- end -}}
{{- if and $template.outputs (not $root.Values.artifacts.runResults) -}}
{{- $_ := unset $template.outputs "artifacts" -}}
{{- end -}}
{{- end -}}
{{ toYaml $doc }}
{{- end }}
