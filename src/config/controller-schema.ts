// Controller configuration schema: where it listens (optionally with TLS), who may watch (a bearer token, a cap on
// streams), and where agents come from — the Kubernetes API (namespace, label selector, zone labels, credentials) or a
// peers file. Strict, like the agent's.
import { z } from 'zod';
import { boundedInt, checkRange, filePath, ipAddress, listenPort, logLevel, metricsPrefix, OBJECT } from '../validation/validators.ts';
import { probingSchema } from './schema.ts';

/** Node labels read for a node's zone, first present wins (the current label, then the deprecated one). */
export const DEFAULT_ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'] as const;

const labelSelector = z
  .string({ error: 'must be a string' })
  .regex(
    /^[A-Za-z0-9_./-]+(\s*(=|==|!=)\s*[A-Za-z0-9_.-]*)?(\s*,\s*[A-Za-z0-9_./-]+(\s*(=|==|!=)\s*[A-Za-z0-9_.-]*)?)*$/,
    'must be an equality-based label selector like app=kconmon,component=agent',
  );

const kubernetes = z.strictObject(
  {
    /** Namespace of the agent pods; default: $POD_NAMESPACE, then the service account's namespace, then `kconmon`. */
    namespace: z
      .string({ error: 'must be a string' })
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a valid namespace name')
      .optional(),
    agentSelector: labelSelector.default('app=kconmon,component=agent'),
    zoneLabels: z
      .array(z.string().min(1, 'must not be empty'), { error: 'must be a list of label keys' })
      .min(1, 'must list at least one label')
      .default([...DEFAULT_ZONE_LABELS]),
    /** Path of a kubeconfig; default: in-cluster service-account credentials, then $KUBECONFIG. */
    kubeconfig: filePath.optional(),
    restartBackoff: z.strictObject({ min: boundedInt(10, 600_000).default(500), max: boundedInt(10, 600_000).default(30_000) }, OBJECT).prefault({}),
  },
  OBJECT,
);

const auth = z.strictObject(
  {
    /** File holding the agents' shared bearer token; when set, /v1/watch, /agents and /agent/<pod> require it. */
    tokenFile: filePath.optional(),
  },
  OBJECT,
);

const tls = z.strictObject({ certFile: filePath, keyFile: filePath }, OBJECT);

export const controllerConfigSchema = z
  .strictObject(
    {
      port: listenPort.default(8080),
      listenAddress: ipAddress.default('0.0.0.0'),
      logLevel: logLevel.default('info'),
      metricsPrefix: metricsPrefix.default('kconmon'),
      heartbeatInterval: boundedInt(100, 600_000).default(5000),
      /** ms after SIGTERM with /readyz failing and every agent stream still served, before the streams close. */
      shutdownGracePeriod: boundedInt(0, 600_000).default(0),
      /** Watch streams served at once; more are answered 503 (sized for 5,000+ nodes with room for a rollout). */
      maxAgentStreams: boundedInt(1, 1_000_000).default(10_000),
      auth: auth.prefault({}),
      /** Serve HTTPS with this certificate and key (PEM). */
      tls: tls.optional(),
      source: z.strictObject({ kubernetes: kubernetes.optional(), peersFile: filePath.optional() }, OBJECT).prefault({}),
      /**
       * The agents' probing budget (their `probing.maxPeers`): the verdicts judge a node only by the agents assigned to
       * probe it. The chart sets both from one value.
       */
      probing: probingSchema.prefault({}),
      /** Verdict windows: their length (the agents' probe interval) and the grace for reports in flight. */
      verdicts: z.strictObject({ window: boundedInt(500, 3_600_000).default(5000), grace: boundedInt(0, 60_000).default(1000) }, OBJECT).prefault({}),
      /**
       * Kubernetes Events on the Node for node verdicts (raised and cleared), core/v1 in namespace `default`; one Event
       * per node and reason, written at most once per `minInterval` ms (repeats in between are folded into its count).
       */
      events: z
        .strictObject(
          { enabled: z.boolean({ error: 'must be true or false' }).default(false), minInterval: boundedInt(1000, 3_600_000).default(60_000) },
          OBJECT,
        )
        .prefault({}),
    },
    OBJECT,
  )
  .superRefine((config, ctx) => {
    const { kubernetes: kube, peersFile } = config.source;
    if (kube !== undefined && peersFile !== undefined)
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'set only one of source.kubernetes or source.peersFile' });
    if (config.events.enabled && peersFile !== undefined)
      ctx.addIssue({ code: 'custom', path: ['events', 'enabled'], message: 'needs source.kubernetes (Events are written on Nodes through the API)' });
    if (kube) {
      const { min, max } = kube.restartBackoff;
      checkRange(ctx, ['source', 'kubernetes', 'restartBackoff', 'max'], { low: min, high: max }, 'restartBackoff.min');
    }
  })
  .transform((config) => ({
    ...config,
    // Kubernetes is the default source.
    source: config.source.peersFile === undefined ? { kubernetes: config.source.kubernetes ?? kubernetes.parse({}) } : { peersFile: config.source.peersFile },
  }));

export type ControllerConfig = z.output<typeof controllerConfigSchema>;
