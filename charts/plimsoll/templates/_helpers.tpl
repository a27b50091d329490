{{/*
Names, labels and the decisions that several templates share.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "plimsoll.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: <release>-<chart>, or the release name when it already contains the chart name. */}}
{{- define "plimsoll.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart label value: name-version. */}}
{{- define "plimsoll.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the pods. Never change them between releases (Deployment selectors are immutable). */}}
{{- define "plimsoll.selectorLabels" -}}
app.kubernetes.io/name: {{ include "plimsoll.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end -}}

{{/* Labels on every object. */}}
{{- define "plimsoll.labels" -}}
helm.sh/chart: {{ include "plimsoll.chart" . }}
{{ include "plimsoll.selectorLabels" . }}
app.kubernetes.io/version: {{ include "plimsoll.imageTag" . | quote }}
app.kubernetes.io/part-of: plimsoll
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The dashboard's pod labels (component dashboard: the webhook Service never selects them). */}}
{{- define "plimsoll.dashboardSelectorLabels" -}}
app.kubernetes.io/name: {{ include "plimsoll.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: dashboard
{{- end -}}

{{/* Labels on every dashboard object. */}}
{{- define "plimsoll.dashboardLabels" -}}
helm.sh/chart: {{ include "plimsoll.chart" . }}
{{ include "plimsoll.dashboardSelectorLabels" . }}
app.kubernetes.io/version: {{ include "plimsoll.imageTag" . | quote }}
app.kubernetes.io/part-of: plimsoll
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Name of the dashboard's objects. */}}
{{- define "plimsoll.dashboardName" -}}
{{- printf "%s-dashboard" (include "plimsoll.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Image tag: image.tag or the chart's appVersion. */}}
{{- define "plimsoll.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion | toString -}}
{{- end -}}

{{/* Image reference: repository:tag, plus @digest when a digest is set. */}}
{{- define "plimsoll.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (include "plimsoll.imageTag" .) -}}
{{- if .Values.image.digest -}}
{{- $ref = printf "%s@%s" $ref .Values.image.digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* The commit the pods run, exactly as given (annotation value). */}}
{{- define "plimsoll.commit" -}}
{{- .Values.commit | default (include "plimsoll.imageTag" .) | toString -}}
{{- end -}}

{{/* The commit as a label value: [A-Za-z0-9._-], at most 63 characters, alphanumeric at both ends. */}}
{{- define "plimsoll.commitLabel" -}}
{{- $v := regexReplaceAll "[^A-Za-z0-9._-]" (include "plimsoll.commit" .) "-" | trunc 63 -}}
{{- $v = regexReplaceAll "^[^A-Za-z0-9]+" $v "" -}}
{{- regexReplaceAll "[^A-Za-z0-9]+$" $v "" | default "unknown" -}}
{{- end -}}

{{/* ServiceAccount name. */}}
{{- define "plimsoll.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "plimsoll.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret that holds tls.crt and tls.key. */}}
{{- define "plimsoll.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" -}}
{{- required "tls.secret.name is required when tls.mode is secret" .Values.tls.secret.name -}}
{{- else -}}
{{- printf "%s-tls" (include "plimsoll.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* DNS names of the webhook Service, as a JSON list (the API server calls <svc>.<ns>.svc). */}}
{{- define "plimsoll.dnsNames" -}}
{{- $svc := include "plimsoll.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) -}}
{{- concat $names .Values.tls.extraDnsNames | uniq | toJson -}}
{{- end -}}

{{/*
"true" when the MutatingWebhookConfiguration is registered: webhook.mutating.enabled
true, or auto and any mutation enabled in config.mutations. The defaults are the
server's: inject-commit on, the others off.
*/}}
{{- define "plimsoll.mutating" -}}
{{- $mode := .Values.webhook.mutating.enabled -}}
{{- if eq (toString $mode) "auto" -}}
{{- $cfg := .Values.config.mutations | default dict -}}
{{- $on := false -}}
{{- range $id, $default := dict "inject-commit" true "inject-tracing" false "inject-security-defaults" false -}}
{{- $m := get $cfg $id | default dict -}}
{{- if hasKey $m "enabled" -}}
{{- if $m.enabled }}{{ $on = true }}{{ end -}}
{{- else if $default -}}
{{- $on = true -}}
{{- end -}}
{{- end -}}
{{- $on -}}
{{- else -}}
{{- toString $mode -}}
{{- end -}}
{{- end -}}

{{/* PodDisruptionBudget apiVersion: policy/v1 from Kubernetes 1.21 on, else policy/v1beta1. */}}
{{- define "plimsoll.pdbApiVersion" -}}
{{- if .Values.podDisruptionBudget.apiVersion -}}
{{- .Values.podDisruptionBudget.apiVersion -}}
{{- else if and (.Capabilities.APIVersions.Has "policy/v1") (semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version) -}}
policy/v1
{{- else -}}
policy/v1beta1
{{- end -}}
{{- end -}}

{{/*
Webhook rules: Pods and the workload kinds plimsoll evaluates (Deployment, StatefulSet,
DaemonSet, ReplicaSet, ReplicationController, Job, CronJob) on CREATE and UPDATE.
apiVersions "*" so that batch/v1beta1 CronJobs (Kubernetes < 1.21) match too.
Argument: a dict with "workloads" (bool).
*/}}
{{- define "plimsoll.rules" -}}
- apiGroups: [""]
  apiVersions: ["*"]
  operations: [CREATE, UPDATE]
  resources: [pods{{ if .workloads }}, replicationcontrollers{{ end }}]
  scope: Namespaced
{{- if .workloads }}
- apiGroups: [apps]
  apiVersions: ["*"]
  operations: [CREATE, UPDATE]
  resources: [deployments, statefulsets, daemonsets, replicasets]
  scope: Namespaced
- apiGroups: [batch]
  apiVersions: ["*"]
  operations: [CREATE, UPDATE]
  resources: [jobs, cronjobs]
  scope: Namespaced
{{- end }}
{{- end -}}

{{/*
namespaceSelector of both webhooks. The release namespace and kube-system are
always excluded, by the kubernetes.io/metadata.name label (Kubernetes >= 1.21),
so that a broken webhook never blocks its own repair; namespaces labelled with
webhook.skipLabel are excluded on every version.
*/}}
{{- define "plimsoll.namespaceSelector" -}}
{{- $excluded := concat (list .Release.Namespace "kube-system") .Values.webhook.excludeNamespaces | uniq -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values: {{ toJson $excluded }}
{{- with .Values.webhook.skipLabel }}
  - key: {{ . }}
    operator: DoesNotExist
{{- end }}
{{- with .Values.webhook.namespaceSelectorExpressions }}
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{/* Path of the mounted configuration and TLS files. */}}
{{- define "plimsoll.configDir" -}}/etc/plimsoll/config{{- end -}}
{{- define "plimsoll.tlsDir" -}}/etc/plimsoll/tls{{- end -}}
