{{/* Names, labels and small builders shared by the templates. */}}

{{- define "kconmon.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-kconmon, or the release name when it already contains the chart name. Leaves room for "-controller". */}}
{{- define "kconmon.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kconmon.agent.fullname" -}}{{ include "kconmon.fullname" . }}-agent{{- end -}}
{{- define "kconmon.controller.fullname" -}}{{ include "kconmon.fullname" . }}-controller{{- end -}}

{{- define "kconmon.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Standard labels, then commonLabels (which cannot override them). */}}
{{- define "kconmon.labels" -}}
{{- $standard := dict
  "helm.sh/chart" (include "kconmon.chart" .)
  "app.kubernetes.io/name" (include "kconmon.name" .)
  "app.kubernetes.io/instance" .Release.Name
  "app.kubernetes.io/version" (toString .Chart.AppVersion)
  "app.kubernetes.io/managed-by" .Release.Service
  "app.kubernetes.io/part-of" "kconmon" -}}
{{- toYaml (merge $standard (deepCopy (default dict .Values.commonLabels))) -}}
{{- end -}}

{{/* Selector labels. `app: kconmon` and `component` are the original chart's: scrape configs keep pods by them. */}}
{{- define "kconmon.agent.selectorLabels" -}}
app: kconmon
component: agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kconmon.controller.selectorLabels" -}}
app: kconmon
component: controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kconmon.agent.labels" -}}
{{- $own := merge (fromYaml (include "kconmon.agent.selectorLabels" .)) (dict "app.kubernetes.io/component" "agent") -}}
{{- toYaml (merge $own (fromYaml (include "kconmon.labels" .))) -}}
{{- end -}}

{{- define "kconmon.controller.labels" -}}
{{- $own := merge (fromYaml (include "kconmon.controller.selectorLabels" .)) (dict "app.kubernetes.io/component" "controller") -}}
{{- toYaml (merge $own (fromYaml (include "kconmon.labels" .))) -}}
{{- end -}}

{{/*
A pod template's labels or annotations: the chart's own (first argument, YAML) win over the user's (second, a map).
Call with (list OWN-YAML USER-MAP).
*/}}
{{- define "kconmon.mergeMaps" -}}
{{- $merged := merge (fromYaml (index . 0)) (deepCopy (default dict (index . 1))) -}}
{{- if $merged -}}
{{- toYaml $merged -}}
{{- end -}}
{{- end -}}

{{/* Pod template labels and annotations. Call with (list $ "agent"|"controller"). */}}
{{- define "kconmon.podLabels" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $values := get $root.Values $component -}}
{{- $own := fromYaml (include (printf "kconmon.%s.labels" $component) $root) -}}
{{- if $values.disableIstioSidecar -}}
{{- $_ := set $own "sidecar.istio.io/inject" "false" -}}
{{- end -}}
{{- include "kconmon.mergeMaps" (list (toYaml $own) $values.podLabels) -}}
{{- end -}}

{{- define "kconmon.podAnnotations" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $values := get $root.Values $component -}}
{{- $own := dict "checksum/config" (include (printf "kconmon.%s.config" $component) $root | sha256sum) -}}
{{- if $values.disableIstioSidecar -}}
{{- $_ := set $own "sidecar.istio.io/inject" "false" -}}
{{- end -}}
{{- include "kconmon.mergeMaps" (list (toYaml $own) $values.podAnnotations) -}}
{{- end -}}

{{/* The label selector the controller uses to find this release's agent pods. */}}
{{- define "kconmon.agent.selector" -}}
app=kconmon,component=agent,app.kubernetes.io/instance={{ .Release.Name }}
{{- end -}}

{{- define "kconmon.agent.serviceAccountName" -}}
{{- default (include "kconmon.agent.fullname" .) .Values.agent.serviceAccount.name -}}
{{- end -}}

{{- define "kconmon.controller.serviceAccountName" -}}
{{- default (include "kconmon.controller.fullname" .) .Values.controller.serviceAccount.name -}}
{{- end -}}

{{/* repository:tag, or repository@digest. Call with (dict "image" .Values.image "default" .Chart.AppVersion). */}}
{{- define "kconmon.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (toString (default .default .image.tag)) -}}
{{- end -}}
{{- end -}}

{{/* The URL(s) agents dial: the controller Service by its fully qualified name (no search-domain walk, ndots:1). */}}
{{- define "kconmon.controllerUrls" -}}
{{- $urls := .Values.config.discovery.controller.urls -}}
{{- if not $urls -}}
{{- $scheme := ternary "https" "http" .Values.controller.tls.enabled -}}
{{- $service := include "kconmon.controller.fullname" . -}}
{{- $urls = list (printf "%s://%s.%s.svc.%s:%v" $scheme $service .Release.Namespace .Values.clusterDomain .Values.controller.service.port) -}}
{{- end -}}
{{- toJson $urls -}}
{{- end -}}

{{/* The headless Service over every controller pod (agents report to each replica). Name: <fullname>-controllers. */}}
{{- define "kconmon.controller.headlessName" -}}{{ include "kconmon.fullname" . }}-controllers{{- end -}}

{{/*
The URL(s) agents report to: reportUrls if set; else, when urls are the chart's, the headless Service (its name resolves
to every replica); else nothing (the agent reports to its urls).
*/}}
{{- define "kconmon.controllerReportUrls" -}}
{{- $controller := .Values.config.discovery.controller -}}
{{- $urls := default list $controller.reportUrls -}}
{{- if and (not $urls) (not $controller.urls) -}}
{{- $scheme := ternary "https" "http" .Values.controller.tls.enabled -}}
{{- $service := include "kconmon.controller.headlessName" . -}}
{{- $urls = list (printf "%s://%s.%s.svc.%s:%v" $scheme $service .Release.Namespace .Values.clusterDomain .Values.controller.service.port) -}}
{{- end -}}
{{- toJson $urls -}}
{{- end -}}

{{/* The Secret holding the agents' token, and its key. */}}
{{- define "kconmon.auth.secretName" -}}
{{- default (printf "%s-token" (include "kconmon.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}
{{- define "kconmon.auth.secretKey" -}}
{{- ternary .Values.auth.existingSecretKey "token" (ne .Values.auth.existingSecret "") -}}
{{- end -}}

{{/* The Secret with the controller's certificate, key and CA (kubernetes.io/tls plus ca.crt). */}}
{{- define "kconmon.tls.secretName" -}}
{{- default (printf "%s-tls" (include "kconmon.fullname" .)) .Values.controller.tls.existingSecret -}}
{{- end -}}

{{/* Where the pods find the token and the TLS files (secret volumes, refreshed by the kubelet on rotation). */}}
{{- define "kconmon.auth.tokenFile" -}}/var/run/secrets/kconmon/auth/token{{- end -}}
{{- define "kconmon.tls.dir" -}}/var/run/secrets/kconmon/tls{{- end -}}

{{/* The agent configuration document (YAML). */}}
{{- define "kconmon.agent.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $discovery := get $config "discovery" -}}
{{- $controller := get $discovery "controller" -}}
{{- $_ := set $controller "urls" (include "kconmon.controllerUrls" . | fromJsonArray) -}}
{{- $reportUrls := include "kconmon.controllerReportUrls" . | fromJsonArray -}}
{{- if $reportUrls -}}
{{- $_ := set $controller "reportUrls" $reportUrls -}}
{{- else -}}
{{- $_ := unset $controller "reportUrls" -}}
{{- end -}}
{{- if .Values.auth.enabled -}}
{{- $_ := set $controller "tokenFile" (include "kconmon.auth.tokenFile" .) -}}
{{- end -}}
{{- if .Values.controller.tls.enabled -}}
{{- $_ := set $controller "caFile" (printf "%s/ca.crt" (include "kconmon.tls.dir" .)) -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The controller configuration document (YAML). */}}
{{- define "kconmon.controller.config" -}}
{{- $c := .Values.controller.config -}}
port: {{ int64 $c.port }}
listenAddress: {{ $c.listenAddress | quote }}
logLevel: {{ $c.logLevel }}
metricsPrefix: {{ .Values.config.metricsPrefix }}
heartbeatInterval: {{ int64 $c.heartbeatInterval }}
shutdownGracePeriod: {{ int64 $c.shutdownGracePeriod }}
maxAgentStreams: {{ int64 $c.maxAgentStreams }}
events:
  enabled: {{ $c.events.enabled }}
  minInterval: {{ int64 $c.events.minInterval }}
{{- /* The agents' probing budget: verdicts judge a node by the agents assigned to probe it. */}}
probing:
  maxPeers: {{ int64 .Values.config.probing.maxPeers }}
{{- /* One verdict window per probe round of the agents (docs/design/verdicts.md). */}}
verdicts:
  window: {{ int64 (max 500 .Values.config.udp.interval .Values.config.tcp.interval) }}
{{- if .Values.auth.enabled }}
auth:
  tokenFile: {{ include "kconmon.auth.tokenFile" . }}
{{- end }}
{{- if .Values.controller.tls.enabled }}
tls:
  certFile: {{ include "kconmon.tls.dir" . }}/tls.crt
  keyFile: {{ include "kconmon.tls.dir" . }}/tls.key
{{- end }}
source:
  kubernetes:
    namespace: {{ .Release.Namespace }}
    agentSelector: {{ include "kconmon.agent.selector" . | quote }}
    zoneLabels:
      {{- toYaml $c.zoneLabels | nindent 6 }}
    restartBackoff:
      min: {{ int64 $c.restartBackoff.min }}
      max: {{ int64 $c.restartBackoff.max }}
{{- end -}}

{{/*
Agent affinity: the user's affinity, with one NotIn expression per nodeAntiAffinity key ANDed into every required
node selector term (terms are ORed, expressions within a term ANDed: every listed node is excluded).
*/}}
{{- define "kconmon.agent.affinity" -}}
{{- $affinity := deepCopy (default dict .Values.agent.affinity) -}}
{{- $byKey := dict -}}
{{- range .Values.agent.nodeAntiAffinity -}}
{{- $values := default list (get $byKey .key) -}}
{{- $_ := set $byKey .key (append $values (toString .value) | uniq) -}}
{{- end -}}
{{- if $byKey -}}
{{- $expressions := list -}}
{{- range $key := keys $byKey | sortAlpha -}}
{{- $expressions = append $expressions (dict "key" $key "operator" "NotIn" "values" (get $byKey $key)) -}}
{{- end -}}
{{- $nodeAffinity := default dict (get $affinity "nodeAffinity") -}}
{{- $required := default dict (get $nodeAffinity "requiredDuringSchedulingIgnoredDuringExecution") -}}
{{- $terms := list -}}
{{- range (default list (get $required "nodeSelectorTerms")) -}}
{{- $term := deepCopy . -}}
{{- $_ := set $term "matchExpressions" (concat (default list (get $term "matchExpressions")) $expressions) -}}
{{- $terms = append $terms $term -}}
{{- end -}}
{{- if not $terms -}}
{{- $terms = list (dict "matchExpressions" $expressions) -}}
{{- end -}}
{{- $_ := set $required "nodeSelectorTerms" $terms -}}
{{- $_ := set $nodeAffinity "requiredDuringSchedulingIgnoredDuringExecution" $required -}}
{{- $_ := set $affinity "nodeAffinity" $nodeAffinity -}}
{{- end -}}
{{- if $affinity -}}
{{- toYaml $affinity -}}
{{- end -}}
{{- end -}}

{{- define "kconmon.controller.affinity" -}}
{{- if .Values.controller.affinity -}}
{{- toYaml .Values.controller.affinity -}}
{{- else -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "kconmon.controller.selectorLabels" . | nindent 12 }}
{{- end -}}
{{- end -}}

{{- define "kconmon.agent.tolerations" -}}
{{- $tolerations := list -}}
{{- if .Values.agent.tolerateAllTaints -}}
{{- $tolerations = append $tolerations (dict "operator" "Exists") -}}
{{- end -}}
{{- $tolerations = concat $tolerations .Values.agent.tolerations -}}
{{- if $tolerations -}}
{{- toYaml $tolerations -}}
{{- end -}}
{{- end -}}
