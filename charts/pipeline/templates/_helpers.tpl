{{/*
The prefix of every object name, argo-helm's `fullname`: fullnameOverride, else the release name when it
already contains the name ("smelt", or nameOverride), else "<release>-smelt". Release `smelt` keeps the names
the docs and `smelt argo submit` use (smelt-daily, smelt-workflow, smelt-home, ...); another release in the
same namespace gets its own. Cut to 40 characters: the longest suffix (`-ingest-options`, or `-home-` and the
namespace of the hostPath volume) must still fit Kubernetes' 63.
*/}}
{{- define "pipeline.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "smelt" .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/* URL of one of this release's own servers (.component: simulator, s3): its Service, or loopback when the
chart's pods run on the node's network. */}}
{{- define "pipeline.serviceUrl" -}}
{{- $host := ternary "127.0.0.1" (printf "%s-%s" (include "pipeline.fullname" .root) .component) .root.Values.hostNetwork -}}
{{- printf "http://%s:%v" $host .port -}}
{{- end }}

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

{{/*
One Argo manifest rendered by Hera (files/argo/<warehouse>/<name>.yaml), with this release's values applied:
the object names, the image, pull policy, resources and node selector of every step container, the
workflows' node selector and tolerations (`scheduling`), the universe, the chart's
labels, the schedule of a CronWorkflow (.schedule, default the daily `schedule`), the backfill's `bars`
default and fan-out parallelism (`flatfiles`), and the run_results artifact only where an artifact
repository exists. Hera names every object `smelt-…` (its own, and those it refers to: templateRef, ServiceAccount,
ConfigMaps, Secrets, the claim, the mutexes); each such name takes this release's prefix instead, so a second
release's templates refer to its own objects. Hera renders structure only: the schedule (time zone,
suspension, deadline, history limits) and the universe are set here alone, from values.yaml. The file is
then parsed as data (fromYaml), so Argo's {{workflow.…}} expressions pass through untouched.
*/}}
{{- define "pipeline.argo" -}}
{{- $root := .root -}}
{{- $path := printf "files/argo/%s/%s.yaml" $root.Values.warehouse .name -}}
{{- $prefix := printf "%s-" (include "pipeline.fullname" $root) -}}
{{- $doc := regexReplaceAll "\\bsmelt-" ($root.Files.Get $path) $prefix | fromYaml -}}
{{- if not $doc.metadata -}}{{- fail (printf "%s is missing or empty: run `smelt argo render`" $path) -}}{{- end -}}
{{- $_ := set $doc.metadata "labels" (merge (include "pipeline.labels" $root | fromYaml) $doc.metadata.labels) -}}
{{- $spec := $doc.spec -}}
{{- if eq $doc.kind "CronWorkflow" -}}
{{- $schedule := .schedule | default $root.Values.schedule -}}
{{- $_ := set $spec "schedules" $schedule.crons -}}
{{- $_ := set $spec "timezone" $schedule.timezone -}}
{{- $_ := set $spec "suspend" $schedule.suspend -}}
{{- $_ := set $spec "startingDeadlineSeconds" $schedule.startingDeadlineSeconds -}}
{{- $_ := set $spec "successfulJobsHistoryLimit" $schedule.successfulJobsHistoryLimit -}}
{{- $_ := set $spec "failedJobsHistoryLimit" $schedule.failedJobsHistoryLimit -}}
{{- $spec = $spec.workflowSpec -}}
{{- else -}}
{{- with $root.Values.scheduling.nodeSelector -}}{{- $_ := set $spec "nodeSelector" . -}}{{- end -}}
{{- with $root.Values.scheduling.tolerations -}}{{- $_ := set $spec "tolerations" . -}}{{- end -}}
{{- end -}}
{{- range $param := (($spec.arguments | default dict).parameters | default list) -}}
{{- if eq $param.name "underlyings" -}}{{- $_ := set $param "value" (toJson $root.Values.universe) -}}{{- end -}}
{{- if eq $param.name "bars" -}}{{- $_ := set $param "value" (ternary "flatfiles" "rest" $root.Values.flatfiles.enabled) -}}{{- end -}}
{{- end -}}
{{- range $template := ($spec.templates | default list) -}}
{{- if eq $template.name "flatfile-days" -}}{{- $_ := set $template "parallelism" $root.Values.flatfiles.parallelism -}}{{- end -}}
{{- with $template.container -}}
{{- $_ := set . "image" (include "pipeline.image" $root) -}}
{{- $_ := set . "imagePullPolicy" $root.Values.image.pullPolicy -}}
{{- with (get $root.Values.resources $template.name) -}}{{- $_ := set $template.container "resources" . -}}{{- end -}}
{{- with (get $root.Values.scheduling.stepNodeSelectors $template.name) -}}{{- $_ := set $template "nodeSelector" . -}}{{- end -}}
{{- end -}}
{{- if and $template.outputs (not $root.Values.artifacts.runResults) -}}
{{- $_ := unset $template.outputs "artifacts" -}}
{{- end -}}
{{- end -}}
{{ toYaml $doc }}
{{- end }}
