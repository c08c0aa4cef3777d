// The scrape config the Prometheus Operator generates from a PodMonitor (the chart's, as helm renders it), for a
// Prometheus run outside the cluster: `kubernetes_sd_configs` (role pod, the monitor's namespaces) against the given
// apiserver, then the operator's relabelling — drop finished pods, keep pods whose labels match the selector
// (matchLabels and matchExpressions), keep the named container port, set namespace/container/pod/job/endpoint — and
// the endpoint's own relabelings, metricRelabelings, interval, timeout, path, scheme and honorLabels. A selector the
// operator would reject or an endpoint field not translated here fails with a line naming it, never silently.

/** Where Prometheus finds the apiserver and the credentials it uses for discovery. */
export interface DiscoveryAccess {
  readonly apiServer: string;
  readonly caFile: string;
  /** File holding a bearer token allowed to list and watch pods in the monitor's namespaces. */
  readonly tokenFile: string;
}

interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

interface PodMetricsEndpoint {
  readonly port?: string;
  readonly path?: string;
  readonly scheme?: string;
  readonly interval?: string;
  readonly scrapeTimeout?: string;
  readonly honorLabels?: boolean;
  readonly relabelings?: readonly Record<string, unknown>[];
  readonly metricRelabelings?: readonly Record<string, unknown>[];
}

export interface PodMonitorManifest {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: {
    readonly namespaceSelector?: { readonly matchNames?: readonly string[]; readonly any?: boolean };
    readonly selector: { readonly matchLabels?: Readonly<Record<string, string>>; readonly matchExpressions?: readonly LabelSelectorRequirement[] };
    readonly podMetricsEndpoints: readonly PodMetricsEndpoint[];
    readonly jobLabel?: string;
  };
}

const TRANSLATED_ENDPOINT_FIELDS = new Set(['port', 'path', 'scheme', 'interval', 'scrapeTimeout', 'honorLabels', 'relabelings', 'metricRelabelings']);

/** Prometheus's label-name form of a Kubernetes label key (`app.kubernetes.io/name` → `app_kubernetes_io_name`). */
function sanitize(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_');
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The operator's relabel rules for one label selector requirement. */
function selectorRules(requirement: LabelSelectorRequirement): Record<string, unknown>[] {
  const label = `__meta_kubernetes_pod_label_${sanitize(requirement.key)}`;
  const present = `__meta_kubernetes_pod_labelpresent_${sanitize(requirement.key)}`;
  const values = (requirement.values ?? []).map(escapeRegex).join('|');
  switch (requirement.operator) {
    case 'In':
      return [{ action: 'keep', source_labels: [label, present], regex: `(${values});true` }];
    case 'NotIn':
      return [{ action: 'drop', source_labels: [label, present], regex: `(${values});true` }];
    case 'Exists':
      return [{ action: 'keep', source_labels: [present], regex: 'true' }];
    case 'DoesNotExist':
      return [{ action: 'drop', source_labels: [present], regex: 'true' }];
    default:
      throw new Error(`PodMonitor selector: operator ${JSON.stringify(requirement.operator)} of ${requirement.key} is not In, NotIn, Exists or DoesNotExist`);
  }
}

/** One scrape config per podMetricsEndpoint, named like the operator's (podMonitor/<namespace>/<name>/<index>). */
export function scrapeConfigsFromPodMonitor(monitor: PodMonitorManifest, access: DiscoveryAccess): Record<string, unknown>[] {
  if (monitor.kind !== 'PodMonitor') throw new Error(`not a PodMonitor: ${monitor.kind}`);
  const { name, namespace } = monitor.metadata;
  const spec = monitor.spec;
  if (spec.namespaceSelector?.any) throw new Error('PodMonitor namespaceSelector.any is not translated (the chart never sets it)');
  const namespaces = spec.namespaceSelector?.matchNames ?? [namespace];
  const selector: Record<string, unknown>[] = [
    ...Object.entries(spec.selector.matchLabels ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([key, value]) => selectorRules({ key, operator: 'In', values: [value] })),
    ...(spec.selector.matchExpressions ?? []).flatMap(selectorRules),
  ];
  return spec.podMetricsEndpoints.map((endpoint, index) => {
    const untranslated = Object.keys(endpoint).filter((field) => !TRANSLATED_ENDPOINT_FIELDS.has(field));
    if (untranslated.length > 0) throw new Error(`PodMonitor ${name} endpoint ${index}: ${untranslated.join(', ')} not translated`);
    if (endpoint.port === undefined) throw new Error(`PodMonitor ${name} endpoint ${index}: no port name`);
    const job = spec.jobLabel === undefined ? `${namespace}/${name}` : undefined;
    return {
      job_name: `podMonitor/${namespace}/${name}/${index}`,
      honor_labels: endpoint.honorLabels ?? false,
      ...(endpoint.interval !== undefined ? { scrape_interval: endpoint.interval } : {}),
      ...(endpoint.scrapeTimeout !== undefined ? { scrape_timeout: endpoint.scrapeTimeout } : {}),
      metrics_path: endpoint.path ?? '/metrics',
      ...(endpoint.scheme !== undefined ? { scheme: endpoint.scheme } : {}),
      kubernetes_sd_configs: [
        {
          role: 'pod',
          api_server: access.apiServer,
          tls_config: { ca_file: access.caFile },
          authorization: { type: 'Bearer', credentials_file: access.tokenFile },
          namespaces: { names: [...namespaces] },
        },
      ],
      relabel_configs: [
        { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
        { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' },
        ...selector,
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: escapeRegex(endpoint.port) },
        { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        job === undefined
          ? { source_labels: [`__meta_kubernetes_pod_label_${sanitize(spec.jobLabel as string)}`], target_label: 'job' }
          : { target_label: 'job', replacement: job },
        { target_label: 'endpoint', replacement: endpoint.port },
        ...(endpoint.relabelings ?? []).map(snakeCaseRelabeling),
      ],
      metric_relabel_configs: (endpoint.metricRelabelings ?? []).map(snakeCaseRelabeling),
    };
  });
}

/** A RelabelConfig of the operator's CRD (camelCase: sourceLabels, targetLabel) as Prometheus writes it. */
function snakeCaseRelabeling(rule: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(rule).map(([key, value]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), value]));
}
