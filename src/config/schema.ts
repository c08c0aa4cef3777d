// Agent configuration schema: the YAML file as written, validated strictly, defaults equal to the original kconmon's.
// Durations are integer milliseconds, as in the original chart's `config.*` values.
import { z } from 'zod';
import {
  boundedInt,
  checkRange,
  filePath,
  ipAddress,
  listenPort,
  logLevel,
  metricsPrefix,
  nonEmptyString,
  OBJECT,
  resolverAddress,
} from '../validation/validators.ts';
import { DEFAULT_MAX_PEERS } from '../topology/peer-selection.ts';

/** The smallest `probing.maxPeers`: the probers-per-node target is max(3, ⌊maxPeers / 3⌋) capped at maxPeers. */
const MIN_MAX_PEERS = 3;

const dnsTargetObject = z.strictObject(
  {
    host: nonEmptyString,
    label: nonEmptyString.optional(),
    type: z.enum(['A', 'AAAA'], { error: 'must be A or AAAA' }).default('A'),
    resolvers: z.array(resolverAddress, { error: 'must be a list of resolver addresses' }).optional(),
  },
  OBJECT,
);

/** A DNS target: a bare host name, or a host with its record type, resolvers and metric label. */
const dnsTarget = z.union([z.string().min(1, 'must not be empty'), dnsTargetObject], {
  error: 'must be a host name or an object {host, type, resolvers, label}',
});

const udp = z.strictObject(
  {
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    interval: boundedInt(100, 3_600_000).default(5000),
    timeout: boundedInt(1, 60_000).default(250),
    packets: boundedInt(1, 100).default(5),
    packetSize: boundedInt(4, 1472).default(4),
    packetSpacing: boundedInt(0, 10_000).default(50),
    echoFrom: z.enum(['peers', 'any'], { error: 'must be peers or any' }).default('peers'),
  },
  OBJECT,
);

const tcp = z.strictObject(
  {
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    interval: boundedInt(100, 3_600_000).default(5000),
    timeout: boundedInt(1, 60_000).default(1000),
  },
  OBJECT,
);

const dns = z
  .strictObject(
    {
      enabled: z.boolean({ error: 'must be true or false' }).default(true),
      interval: boundedInt(100, 3_600_000).default(5000),
      timeout: boundedInt(1, 60_000).default(1000),
      targets: z.array(dnsTarget, { error: 'must be a list' }).default(['kubernetes.default.svc.cluster.local']),
    },
    OBJECT,
  )
  .superRefine((section, ctx) => {
    // An empty list would silently disable DNS tests: turning them off is what `enabled: false` is for.
    if (section.enabled && section.targets.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['targets'], message: 'must list at least one target; set dns.enabled: false to turn DNS off' });
    }
  });

const jitter = z.strictObject(
  {
    min: boundedInt(0, 60_000).default(50),
    max: boundedInt(0, 60_000).default(500),
  },
  OBJECT,
);

const controllerDiscovery = z.strictObject(
  {
    urls: z
      .array(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }), { error: 'must be a list of URLs' })
      .min(1, 'must list at least one controller URL'),
    /**
     * Where the probe outcomes go, each URL's host resolved to every address (one report stream per replica); default:
     * `urls`. The chart points it at a headless Service over the controller pods, and `urls` at the ClusterIP Service.
     */
    reportUrls: z
      .array(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }), { error: 'must be a list of URLs' })
      .min(1, 'must list at least one URL (or leave it out to report to discovery.controller.urls)')
      .optional(),
    reconnectMin: boundedInt(10, 600_000).default(250),
    reconnectMax: boundedInt(10, 600_000).default(10_000),
    /** File holding the bearer token sent to the controller (re-read on every connection). */
    tokenFile: filePath.optional(),
    /** PEM CA the controller's certificate must chain to; https URLs are verified against it only. */
    caFile: filePath.optional(),
  },
  OBJECT,
);

/**
 * Bounded probing: past `maxPeers + 1` agents each probes only the peers `selectPeers` assigns it (src/topology). Below 6
 * a node can be left with fewer probers than the target (docs/design/peer-selection.md); 3 keeps that target at 3.
 */
export const probingSchema = z.strictObject(
  {
    maxPeers: boundedInt(MIN_MAX_PEERS, 100_000).default(DEFAULT_MAX_PEERS),
  },
  OBJECT,
);

const discovery = z.strictObject(
  {
    peersFile: filePath.optional(),
    newPeerDelay: boundedInt(0, 600_000).default(1000),
    controller: controllerDiscovery.optional(),
  },
  OBJECT,
);

export const agentConfigSchema = z
  .strictObject(
    {
      port: listenPort.default(8080),
      listenAddress: ipAddress.default('0.0.0.0'),
      metricsPrefix: metricsPrefix.default('kconmon'),
      logLevel: logLevel.default('info'),
      shutdownGracePeriod: boundedInt(0, 600_000).default(5000),
      stallThreshold: boundedInt(1, 10_000).default(10),
      jitter: jitter.prefault({}),
      udp: udp.prefault({}),
      tcp: tcp.prefault({}),
      dns: dns.prefault({}),
      probing: probingSchema.prefault({}),
      discovery: discovery.prefault({}),
    },
    OBJECT,
  )
  .superRefine((config, ctx) => {
    checkRange(ctx, ['jitter', 'max'], { low: config.jitter.min, high: config.jitter.max }, 'jitter.min');
    const { udp: u } = config;
    const window = (u.packets - 1) * u.packetSpacing + u.timeout;
    if (u.enabled && window >= u.interval) {
      ctx.addIssue({
        code: 'custom',
        path: ['udp', 'interval'],
        message: `must be > (packets − 1) × packetSpacing + timeout = ${window} ms, so rounds to one peer never overlap`,
      });
    }
    for (const section of ['tcp', 'dns'] as const) {
      const { enabled, timeout, interval } = config[section];
      if (enabled && timeout >= interval) ctx.addIssue({ code: 'custom', path: [section, 'timeout'], message: `must be < ${section}.interval (${interval})` });
    }
    const labels = new Map<string, number>();
    config.dns.targets.forEach((target, index) => {
      const label = typeof target === 'string' ? target : (target.label ?? target.host);
      const first = labels.get(label);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['dns', 'targets', index],
          message: `duplicate host label "${label}" (also dns.targets[${first}]); give one a distinct label`,
        });
      } else labels.set(label, index);
    });
    const { peersFile, controller } = config.discovery;
    if ((peersFile === undefined) === (controller === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['discovery'], message: 'set exactly one of discovery.peersFile or discovery.controller' });
    }
    if (controller) {
      checkRange(ctx, ['discovery', 'controller', 'reconnectMax'], { low: controller.reconnectMin, high: controller.reconnectMax }, 'reconnectMin');
    }
    if (controller?.caFile !== undefined && ![...controller.urls, ...(controller.reportUrls ?? [])].some((url) => url.startsWith('https:'))) {
      ctx.addIssue({ code: 'custom', path: ['discovery', 'controller', 'caFile'], message: 'is set but no controller URL is https' });
    }
  });

/** The configuration file as a user writes it (every key optional). */
export type AgentConfigInput = z.input<typeof agentConfigSchema>;
/** The configuration with every default applied. */
export type AgentConfig = z.output<typeof agentConfigSchema>;

/** A DNS target after defaults: every field explicit. */
export interface DnsTarget {
  readonly host: string;
  readonly label: string;
  readonly type: 'A' | 'AAAA';
  readonly resolvers: readonly string[] | undefined;
}

export function resolveDnsTargets(config: AgentConfig): DnsTarget[] {
  return config.dns.targets.map((target) =>
    typeof target === 'string'
      ? { host: target, label: target, type: 'A', resolvers: undefined }
      : { host: target.host, label: target.label ?? target.host, type: target.type, resolvers: target.resolvers },
  );
}
