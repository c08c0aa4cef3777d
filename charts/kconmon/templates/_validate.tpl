{{/*
Rules values.schema.json cannot express: the agent's cross-field checks (src/config/schema.ts; the agent's messages,
checked by test/chart/validate-parity.test.ts), grace periods, and the original chart's keys, named with their
replacements. Single-field rules (types, bounds, keys) are in values.schema.json, generated from src/config by
npm run generate. All problems are reported at once.
*/}}
{{- define "kconmon.validate" -}}
{{- $problems := list -}}
{{- $v := .Values -}}

{{- /* The original kconmon chart's keys. */ -}}
{{- if hasKey $v "docker" -}}
{{- $problems = append $problems "docker: the original chart's key; use image.repository (docker.image) and image.tag (docker.tag)" -}}
{{- end -}}
{{- if hasKey $v "resources" -}}
{{- $problems = append $problems "resources: the original chart's key; use agent.resources (resources.agent) and controller.resources" -}}
{{- end -}}
{{- if hasKey $v.config "nodeAntiAffinity" -}}
{{- $problems = append $problems "config.nodeAntiAffinity: the original chart's key; use agent.nodeAntiAffinity (same {key, value} list)" -}}
{{- end -}}
{{- if hasKey $v.config "failureDomainLabel" -}}
{{- $problems = append $problems "config.failureDomainLabel: the original chart's key; use controller.config.zoneLabels (a list, first label present wins)" -}}
{{- end -}}
{{- if and (kindIs "map" $v.config.dns) (hasKey $v.config.dns "hosts") -}}
{{- $problems = append $problems "config.dns.hosts: the original chart's key; use config.dns.targets (a bare host name is a valid target)" -}}
{{- end -}}
{{- if hasKey $v.prometheus "enableServiceMonitor" -}}
{{- $problems = append $problems "prometheus.enableServiceMonitor: the original chart's key; use prometheus.serviceMonitor.enabled" -}}
{{- end -}}

{{- /* The agent's cross-field rules, as src/config/schema.ts enforces them at start-up. */ -}}
{{- $c := $v.config -}}
{{- if lt (int64 $c.jitter.max) (int64 (int64 $c.jitter.min)) -}}
{{- $problems = append $problems (printf "config.jitter.max: must be ≥ config.jitter.min (%v)" (int64 $c.jitter.min)) -}}
{{- end -}}
{{- $u := $c.udp -}}
{{- $window := add (mul (sub (int64 $u.packets) 1) (int64 $u.packetSpacing)) (int64 $u.timeout) -}}
{{- if and $u.enabled (ge (int64 $window) (int64 $u.interval)) -}}
{{- $problems = append $problems (printf "config.udp.interval: must be > (packets − 1) × packetSpacing + timeout = %v ms, so rounds to one peer never overlap" $window) -}}
{{- end -}}
{{- if and $c.tcp.enabled (ge (int64 $c.tcp.timeout) (int64 (int64 $c.tcp.interval))) -}}
{{- $problems = append $problems (printf "config.tcp.timeout: must be < config.tcp.interval (%v)" (int64 $c.tcp.interval)) -}}
{{- end -}}
{{- if and $c.dns.enabled (ge (int64 $c.dns.timeout) (int64 (int64 $c.dns.interval))) -}}
{{- $problems = append $problems (printf "config.dns.timeout: must be < config.dns.interval (%v)" (int64 $c.dns.interval)) -}}
{{- end -}}
{{- if and $c.dns.enabled (empty $c.dns.targets) -}}
{{- $problems = append $problems "config.dns.targets: must list at least one target; set config.dns.enabled: false to turn DNS off" -}}
{{- end -}}
{{- $labels := dict -}}
{{- range $index, $target := $c.dns.targets -}}
{{- $label := $target -}}
{{- if kindIs "map" $target -}}
{{- $label = default $target.host $target.label -}}
{{- end -}}
{{- if hasKey $labels (toString $label) -}}
{{- $problems = append $problems (printf "config.dns.targets[%d]: duplicate host label %q (also config.dns.targets[%v]); give one a distinct label" $index $label (get $labels (toString $label))) -}}
{{- else -}}
{{- $_ := set $labels (toString $label) $index -}}
{{- end -}}
{{- end -}}
{{- $dc := $c.discovery.controller -}}
{{- if lt (int64 $dc.reconnectMax) (int64 (int64 $dc.reconnectMin)) -}}
{{- $problems = append $problems (printf "config.discovery.controller.reconnectMax: must be ≥ reconnectMin (%v)" (int64 $dc.reconnectMin)) -}}
{{- end -}}
{{- $rb := $v.controller.config.restartBackoff -}}
{{- if lt (int64 $rb.max) (int64 (int64 $rb.min)) -}}
{{- $problems = append $problems (printf "controller.config.restartBackoff.max: must be ≥ restartBackoff.min (%v)" (int64 $rb.min)) -}}
{{- end -}}

{{- /* Kubernetes-side rules. */ -}}
{{- $graceMs := mul (int64 (int64 $v.agent.terminationGracePeriodSeconds)) 1000 -}}
{{- if gt (add (int64 (int64 $c.shutdownGracePeriod)) 1000) (int64 $graceMs) -}}
{{- $problems = append $problems (printf "config.shutdownGracePeriod (%v ms) must stay at least 1000 ms below agent.terminationGracePeriodSeconds (%v s), or the kubelet kills the agent before it closes" (int64 $c.shutdownGracePeriod) (int64 $v.agent.terminationGracePeriodSeconds)) -}}
{{- end -}}
{{- $controllerGraceMs := mul (int64 (int64 $v.controller.terminationGracePeriodSeconds)) 1000 -}}
{{- if gt (add (int64 (int64 $v.controller.config.shutdownGracePeriod)) 1000) (int64 $controllerGraceMs) -}}
{{- $problems = append $problems (printf "controller.config.shutdownGracePeriod (%v ms) must stay at least 1000 ms below controller.terminationGracePeriodSeconds (%v s), or the kubelet kills the controller before it closes" (int64 $v.controller.config.shutdownGracePeriod) (int64 $v.controller.terminationGracePeriodSeconds)) -}}
{{- end -}}
{{- if and $v.prometheus.serviceMonitor.enabled $v.prometheus.podMonitor.enabled -}}
{{- $problems = append $problems "prometheus.serviceMonitor.enabled and prometheus.podMonitor.enabled: enable one, not both (every agent would be scraped twice)" -}}
{{- end -}}

{{- /* Security: the token Secret, TLS and the NetworkPolicy. */ -}}
{{- if and $v.auth.enabled $v.auth.existingSecret (not $v.auth.existingSecretKey) -}}
{{- $problems = append $problems "auth.existingSecretKey: must name the key of auth.existingSecret that holds the token" -}}
{{- end -}}
{{- if and $v.controller.tls.enabled $c.discovery.controller.urls -}}
{{- range $index, $url := $c.discovery.controller.urls -}}
{{- if not (hasPrefix "https://" $url) -}}
{{- $problem := printf "config.discovery.controller.urls[%d]: must be https when controller.tls.enabled" $index -}}
{{- $problems = append $problems (printf "%s (agents pin the controller's CA)" $problem) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.networkPolicy.enabled (not $v.networkPolicy.prometheus.namespaceSelector) (not $v.networkPolicy.prometheus.podSelector) -}}
{{- $problem := "networkPolicy.prometheus: set namespaceSelector and/or podSelector to the Prometheus pods" -}}
{{- $problems = append $problems (printf "%s, or nothing can scrape the agents" $problem) -}}
{{- end -}}

{{- if $problems -}}
{{- fail (printf "invalid values:\n  %s" (join "\n  " $problems)) -}}
{{- end -}}
{{- end -}}
