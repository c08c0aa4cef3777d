// The controller: discovers agents (Kubernetes informers, or a peers file), keeps the versioned agent set, and pushes
// it to every connected agent — a snapshot on connect, each change within moments of the API event. Agents prove
// themselves with the shared token (auth.tokenFile); the endpoint is HTTPS when given a certificate (tls).
import { resolve } from 'node:path';
import { ConfigError } from '../validation/format-issues.ts';
import { openTokenFile, type TokenFile } from '../util/token-file.ts';
import { readPemFile } from '../util/pem-file.ts';
import { Registry } from 'prom-client';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/controller-schema.ts';
import type { Logger } from '../log.ts';
import { createControllerMetrics } from '../metrics/controller-metrics.ts';
import { createAgentHub } from './agent-hub.ts';
import { createKubeSource, type AgentSource } from './kube-source.ts';
import { createStaticSource } from './static-source.ts';
import { startControllerHttpServer } from './http-server.ts';
import { loadKubeConfig, resolveNamespace } from './kube-config.ts';
import { createVerdictMetrics } from '../metrics/verdict-metrics.ts';
import { createVerdictEngine } from '../verdicts/engine.ts';
import { createReportIntake } from './report-intake.ts';
import { buildStatus } from './verdict-status.ts';
import { boundedAssignment, topologyOf } from './verdict-topology.ts';
import { startVerdictWindows } from './verdict-windows.ts';
import { startNodeEvents, type NodeEvents } from './node-events.ts';
import { buildMatrix, matrixVersion } from './verdict-matrix.ts';
import { loadWebView } from './web-view.ts';
import { WEB_FILES_DIR } from '../web-files.ts';

export interface ControllerOptions {
  readonly config: ControllerConfig;
  readonly log: Logger;
  /** Overrides credential discovery (tests pass a kubeconfig for a service-account token). */
  readonly kubeConfig?: KubeConfig;
  readonly env?: NodeJS.ProcessEnv;
  /** Directory a relative `source.peersFile` is resolved against. */
  readonly baseDir?: string;
  /** Names the configuration in start-up errors (its file path). */
  readonly configSource?: string;
  readonly port?: number;
  readonly processMetrics?: boolean;
}

export interface Controller {
  /** This replica's id, as sent in every snapshot. */
  readonly id: string;
  readonly port: number;
  readonly registry: Registry;
  /** Resolves once discovery first synced. */
  readonly synced: Promise<void>;
  /**
   * The first step of a graceful shutdown: /readyz fails from now on, while discovery, every agent stream and new
   * watches go on until stop(). Agents are told to reconnect only then, when the Service already routes them elsewhere.
   */
  drain(): void;
  stop(): Promise<void>;
}

export async function startController(options: ControllerOptions): Promise<Controller> {
  const { config } = options;
  const env = options.env ?? process.env;
  const log = options.log.child({ component: 'controller' });
  const baseDir = options.baseDir ?? '.';
  // Secrets first: a missing token or certificate stops start-up with one line naming the option.
  let tokenFile: TokenFile | undefined;
  let tls: { cert: Buffer; key: Buffer } | undefined;
  try {
    if (config.auth.tokenFile !== undefined) {
      tokenFile = await openTokenFile(resolve(baseDir, config.auth.tokenFile), { log: log.child({ component: 'agent-token' }) }).catch((error: Error) => {
        throw new Error(`auth.tokenFile: ${error.message}`);
      });
    }
    if (config.tls !== undefined) {
      tls = {
        cert: await readPemFile(resolve(baseDir, config.tls.certFile), 'tls.certFile', 'certificate'),
        key: await readPemFile(resolve(baseDir, config.tls.keyFile), 'tls.keyFile', 'private key'),
      };
    }
  } catch (error) {
    throw new ConfigError(options.configSource ?? 'configuration', [(error as Error).message]);
  }

  const registry = new Registry();
  const metrics = createControllerMetrics(registry, config.metricsPrefix, options.processMetrics ?? true);

  let source: AgentSource | undefined;
  let draining = false;
  const hub = createAgentHub({
    zoneOfNode: (nodeName) => source?.zoneOfNode(nodeName),
    events: {
      onChange: (change) => {
        metrics.changePushed();
        log.info(change, 'agent set changed; pushed to connected agents');
      },
      onSlowSubscriberDropped: (subscriber) => {
        metrics.slowAgentDropped();
        log.warn({ node: subscriber.nodeName, pod: subscriber.podName }, 'agent stream dropped: the agent is not reading its changes');
      },
    },
  });

  const refresh = () => {
    if (!source) return;
    const entries = source.entries();
    hub.update(entries);
    const ready = entries.filter((entry) => entry.ready).length;
    metrics.setAgents(ready, entries.length - ready);
    metrics.setVersion(hub.version());
  };

  let kubeConfig: KubeConfig | undefined;
  if ('peersFile' in config.source && config.source.peersFile !== undefined) {
    source = createStaticSource({ path: resolve(baseDir, config.source.peersFile), log: options.log, onChange: refresh });
  } else {
    const kube = config.source.kubernetes;
    const namespace = resolveNamespace(kube.namespace, env);
    kubeConfig = options.kubeConfig ?? loadKubeConfig(kube.kubeconfig, env);
    source = createKubeSource({
      kubeConfig,
      namespace,
      labelSelector: kube.agentSelector,
      zoneLabels: kube.zoneLabels,
      backoff: kube.restartBackoff,
      log: options.log,
      onChange: refresh,
      onInformerRestart: (resource) => metrics.informerRestarted(resource),
    });
    log.info({ namespace, selector: kube.agentSelector, zoneLabels: kube.zoneLabels }, 'discovering agents from the Kubernetes API');
  }

  // Verdicts: the engine on the controller's clock, monotonic and in Unix ms (aligned windows across replicas).
  const clock = () => performance.timeOrigin + performance.now();
  const verdictMetrics = createVerdictMetrics(registry, config.metricsPrefix);
  const assignment = boundedAssignment(config.probing.maxPeers);
  const topology = () => topologyOf(hub.entries(), assignment);
  // Node → zone of its agent, rebuilt once per agent-set version (looked up for every reported outcome; a name without
  // an agent is ignored).
  let zones = { version: -1, byNode: new Map<string, string>() };
  const zoneOf = (node: string) => {
    if (zones.version !== hub.version()) zones = { version: hub.version(), byNode: new Map(hub.entries().map((entry) => [entry.nodeName, entry.zone])) };
    return zones.byNode.get(node);
  };
  // Opt-in Events on the Node for node verdicts (the schema requires the Kubernetes source for them).
  const activeSourceForUids = source;
  const nodeEvents: NodeEvents | undefined =
    config.events.enabled && kubeConfig !== undefined
      ? startNodeEvents({
          kubeConfig,
          replica: hub.id,
          minIntervalMs: config.events.minInterval,
          windowMs: config.verdicts.window,
          now: Date.now,
          nodeUid: (node) => activeSourceForUids?.uidOfNode?.(node),
          log: options.log,
          onResult: (result) => verdictMetrics.nodeEvent(result),
        })
      : undefined;
  const windows = startVerdictWindows({
    windowMs: config.verdicts.window,
    graceMs: config.verdicts.grace,
    now: clock,
    createEngine: (start) => createVerdictEngine({ start }),
    topology,
    zoneOf,
    onWindow: ({ report, cpuSeconds }) => {
      verdictMetrics.windowClosed(cpuSeconds);
      verdictMetrics.setVerdicts(report.verdicts);
      nodeEvents?.update(report.verdicts);
    },
  });
  const reports = createReportIntake({ windows, metrics: verdictMetrics, log: options.log, now: clock });
  // The web view: its files read once; computed only when someone asks (no timer of its own).
  const web = await loadWebView(WEB_FILES_DIR);
  if (web.missing !== undefined) log.warn({ missing: web.missing }, 'the web view is not available: its files are missing');

  // A server that cannot start must not leave the windows' timer keeping the process alive after its start-up error.
  const http = await startControllerHttpServer({
    address: config.listenAddress,
    port: options.port ?? config.port,
    hub,
    registry,
    metricsPrefix: `${config.metricsPrefix}_controller`,
    ready: () => hub.synced(),
    draining: () => draining,
    onSubscribersChanged: (count) => metrics.setConnected(count),
    ...(tokenFile !== undefined ? { authenticate: (token: string) => tokenFile.matches(token), currentToken: () => tokenFile.current() } : {}),
    ...(tls !== undefined ? { tls } : {}),
    maxAgentStreams: config.maxAgentStreams,
    heartbeatIntervalMs: config.heartbeatInterval,
    onWatchRejected: (reason) => metrics.watchRejected(reason),
    reports,
    onReportRejected: (reason) => verdictMetrics.reportRejected(reason),
    status: () => buildStatus(hub.id, config.verdicts.window, windows.last(), topology()),
    matrix: {
      version: () => matrixVersion(hub.id, windows.last(), hub.version()),
      build: (query) =>
        buildMatrix(
          { controller: hub.id, windowMs: config.verdicts.window, closed: windows.last(), topology: topology(), agentSetVersion: hub.version(), now: clock() },
          query,
        ),
    },
    webView: web.view,
  }).catch((error: unknown) => {
    windows.close();
    throw error;
  });

  const heartbeat = setInterval(() => {
    hub.heartbeat();
    reports.heartbeat();
  }, config.heartbeatInterval);
  const activeSource = source;
  const synced = activeSource.start().then(() => {
    refresh();
    hub.markSynced();
    metrics.setSynced(true);
    log.info({ agents: hub.entries().length, version: hub.version() }, 'discovery synced; serving agents');
  });
  synced.catch((error: unknown) => log.error({ err: error }, 'discovery failed to start'));
  log.info({ port: http.port, tls: tls !== undefined, auth: tokenFile !== undefined }, 'controller listening');
  // Only once listening: a start-up error must stay the one line it is.
  if (tokenFile === undefined) log.warn('auth.tokenFile is not set: any client can watch the agent list and is counted as an agent');

  return {
    id: hub.id,
    port: http.port,
    registry,
    synced,
    drain() {
      draining = true;
    },
    async stop() {
      clearInterval(heartbeat);
      windows.close();
      reports.close();
      await nodeEvents?.close();
      hub.close();
      await http.close();
      await activeSource.stop();
    },
  };
}
