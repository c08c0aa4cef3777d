// Renders a prom-client Registry in the Prometheus text format without holding the event loop: prom-client's
// registry.metrics() formats every series in one go (its awaits are microtasks, which never let I/O in), 150 ms at
// 1,000 peers and up to 255 ms at 3,000, while echoes wait unread and the kernel drops them once the probe socket's
// buffer is full. Here the work is cut into slices of at most `sliceMs` with a setImmediate between them, so probe
// replies and timers run during a render. The text is byte for byte what registry.metrics() returns (tested).
//
// It is also cheaper: the label part of a series (`{source="…",destination="…",…}`) is formatted once per labels
// object and cached in a WeakMap (prom-client keeps the object passed to set()/inc() for the life of the series, and
// the agent passes one cached object per peer), instead of escaping and joining every label of every series on every
// scrape. A series removed from its metric drops its labels object, and with it the cached text.
import { Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

export interface ExpositionRenderer {
  /** The registry's exposition, as registry.metrics() would return it. */
  render(): Promise<string>;
}

export interface ExpositionRendererOptions {
  readonly registry: Registry;
  /** Longest stretch of rendering between two turns of the event loop, ms (default 2). */
  readonly sliceMs?: number;
  /** Lets the event loop run (default: setImmediate, after pending I/O). */
  readonly yieldToLoop?: () => Promise<void>;
}

type Labels = Readonly<Record<string, string | number>>;
type Value = MetricValue<string> & { readonly metricName?: string; readonly sharedLabels?: Labels };
/** What metric.get() / getForPromString() return, as far as the exposition reads it. */
type MetricData = Pick<MetricObjectWithValues<Value>, 'name' | 'help' | 'type' | 'values'>;
interface RenderableMetric {
  get(): Promise<MetricData> | MetricData;
  getForPromString?(): Promise<MetricData>;
}

/** Lines formatted between two looks at the clock. */
const LINES_PER_CLOCK_CHECK = 64;

const yieldWithSetImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createExpositionRenderer(options: ExpositionRendererOptions): ExpositionRenderer {
  const { registry } = options;
  const sliceMs = options.sliceMs ?? 2;
  const yieldToLoop = options.yieldToLoop ?? yieldWithSetImmediate;
  /** Formatted label text per labels object, for series without shared labels (keyed by default-label set). */
  let labelText = new WeakMap<object, string>();
  /** Formatted shared labels (a histogram series' own labels, shared by its buckets, _sum and _count). */
  const sharedText = new WeakMap<object, string>();
  let cachedDefaults: Labels | undefined;

  function formatPairs(labels: Labels, exclude: Labels | undefined, out: string[]): void {
    for (const name in labels) {
      if (exclude !== undefined && Object.hasOwn(exclude, name)) continue;
      out.push(`${name}="${escapeLabelValue(labels[name]!)}"`);
    }
  }

  /** prom-client's order: the series' own labels, then default labels it does not have; shared labels last. */
  function withDefaults(labels: Labels, defaults: Labels | undefined): Labels {
    return defaults === undefined ? labels : { ...labels, ...defaults, ...labels };
  }

  function labelsOf(labels: Labels, shared: Labels | undefined, defaults: Labels | undefined): string {
    const sharedIsEmpty = shared === undefined || isEmpty(shared);
    if (sharedIsEmpty) {
      let text = labelText.get(labels);
      if (text === undefined) {
        const parts: string[] = [];
        formatPairs(withDefaults(labels, defaults), undefined, parts);
        text = parts.length > 0 ? `{${parts.join(',')}}` : '';
        labelText.set(labels, text);
      }
      return text;
    }
    const parts: string[] = [];
    formatPairs(withDefaults(labels, defaults), shared, parts);
    let flattened = sharedText.get(shared);
    if (flattened === undefined) {
      const sharedParts: string[] = [];
      formatPairs(shared, undefined, sharedParts);
      flattened = sharedParts.join(',');
      sharedText.set(shared, flattened);
    }
    if (flattened !== '') parts.push(flattened);
    return parts.length > 0 ? `{${parts.join(',')}}` : '';
  }

  return {
    async render() {
      // prom-client has no other format that this reproduces; OpenMetrics is left to it.
      if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) return registry.metrics();
      const defaults = defaultLabelsOf(registry);
      if (!sameLabels(defaults, cachedDefaults)) {
        labelText = new WeakMap();
        cachedDefaults = defaults;
      }
      let sliceStart = performance.now();
      const pause = async () => {
        if (performance.now() - sliceStart < sliceMs) return;
        await yieldToLoop();
        sliceStart = performance.now();
      };
      const blocks: string[] = [];
      for (const metric of registry.getMetricsAsArray() as unknown as RenderableMetric[]) {
        const data = typeof metric.getForPromString === 'function' ? await metric.getForPromString() : await metric.get();
        const name = escapeString(data.name);
        const lines: string[] = [`# HELP ${name} ${escapeString(data.help)}`, `# TYPE ${name} ${data.type}`];
        const values = data.values ?? [];
        for (let index = 0; index < values.length; index++) {
          const value = values[index]!;
          lines.push(`${value.metricName ?? name}${labelsOf((value.labels ?? {}) as Labels, value.sharedLabels, defaults)} ${valueText(value.value)}`);
          if (index % LINES_PER_CLOCK_CHECK === LINES_PER_CLOCK_CHECK - 1) await pause();
        }
        blocks.push(lines.join('\n'));
        await pause();
      }
      return `${blocks.join('\n\n')}\n`;
    },
  };
}

/** The registry's default labels (setDefaultLabels); prom-client keeps them in a field with no getter. */
function defaultLabelsOf(registry: Registry): Labels | undefined {
  const labels = (registry as unknown as { _defaultLabels?: Labels })._defaultLabels;
  return labels !== undefined && !isEmpty(labels) ? labels : undefined;
}

function sameLabels(a: Labels | undefined, b: Labels | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function isEmpty(labels: Labels): boolean {
  for (const _ in labels) return false;
  return true;
}

/** As prom-client's getValueAsString. */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

function escapeString(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string | number): string | number {
  return typeof value === 'string' ? escapeString(value).replace(/"/g, '\\"') : value;
}
