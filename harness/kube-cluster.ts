// A real, minimal Kubernetes control plane (etcd + kube-apiserver, no controller-manager, scheduler or kubelet) on
// loopback, for the integration tests of the controller and the Helm chart, the e2e cluster and the controller
// benchmark (harness/shared-kube.ts shares one per test run). test/cluster/node.ts adds the rest of a node around it
// (`address` + `serviceAccountAdmission` options).
//
// Binaries come from scripts/setup/go-tools.sh (pinned builds in ${KCONMON_TOOLS_DIR:-~/.cache/kconmon/tools}/bin), or
// from KCONMON_ETCD / KCONMON_KUBE_APISERVER. Everything listens on 127.0.0.1 only; ports are chosen by binding port 0
// first. Child processes get a parent-death signal (setpriv --pdeathsig) and are also killed on process exit: no
// orphans.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { accessSync, readFileSync, statSync, constants as fsConstants } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import YAML from 'yaml';
import { startLoggedProcess, type LoggedProcess } from './logged-process.ts';
import { freePorts } from './ports.ts';
import { GiveUp, waitUntil } from './wait.ts';

export interface KubeBinaries {
  etcd: string;
  kubeApiServer: string;
}

/** `found` when both binaries exist, otherwise `reason` says what is missing and how to get it. */
export type KubeBinariesLookup = { found: KubeBinaries; reason: undefined } | { found: undefined; reason: string };

export interface KubeClusterOptions {
  /** Defaults to findKubeBinaries(); start fails if they are missing. */
  binaries?: KubeBinaries;
  /** Max time to wait for etcd health and apiserver /readyz, per start. Default 120 s. */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags (appended, so they override the defaults). */
  extraApiServerArgs?: string[];
  /** Service CIDR; never routed. Default 198.19.0.0/16. */
  serviceClusterIpRange?: string;
  /** Keep the temp dir (data, logs, certs) after stop(). Also KCONMON_KEEP_KUBE_TMP=1. */
  keepTempDir?: boolean;
  /**
   * Address kube-apiserver binds and advertises (default 127.0.0.1, loopback only). Any other address also publishes
   * it as the `kubernetes` Service's endpoint (lease reconciler), so pods reach the API through the Service.
   */
  address?: string;
  /** Keep the ServiceAccount admission plugin on (default off: without a controller-manager no pod could be created). */
  serviceAccountAdmission?: boolean;
}

/** Where a kube-apiserver is and how to act on it as its admin (what harness/shared-kube.ts passes between processes). */
export interface KubeApiAddress {
  /** https://127.0.0.1:<port> (or the `address` option) */
  readonly server: string;
  /** Bearer token of an admin identity (group system:masters). */
  readonly adminToken: string;
  /** PEM of the CA that signed the apiserver's self-signed serving cert. */
  readonly caPem: string;
}

/** A running kube-apiserver as its clients see it, whoever started it. */
export interface KubeApi extends KubeApiAddress {
  kubeConfigFor(token: string): KubeConfig;
  adminKubeConfig(): KubeConfig;
  /** Writes a kubeconfig (mode 0600) for the token, usable by helm/kubectl. */
  writeKubeconfig(token: string, filePath: string): Promise<void>;
  /** TokenRequest API; creates the namespace and ServiceAccount if missing. */
  createServiceAccountToken(namespace: string, name: string, expirationSeconds?: number): Promise<string>;
}

/** etcd + kube-apiserver started by this process: the API, and control over the processes. */
export interface KubeCluster extends KubeApi {
  /** http://127.0.0.1:<port> */
  readonly etcdEndpoint: string;
  readonly tempDir: string;
  readonly apiServerLogPath: string;
  readonly etcdLogPath: string;
  /** PEM private key the apiserver signs ServiceAccount tokens with (a controller-manager needs it). */
  readonly serviceAccountKeyPath: string;
  /** Stops and starts kube-apiserver on the same port; etcd (data) keeps running. */
  restartApiServer(): Promise<void>;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  /** Stops everything and removes the temp dir (unless kept). Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;
const LOG_TAIL_LINES = 60;

/** Directory where scripts/setup/go-tools.sh puts its binaries. */
export function toolsBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.KCONMON_TOOLS_DIR || path.join(os.homedir(), '.cache', 'kconmon', 'tools');
  return path.join(base, 'bin');
}

/**
 * Path of a binary built by scripts/setup/go-tools.sh (kube-apiserver, etcd,
 * helm), or the reason it is not usable. `envOverride` names an env var that,
 * when set, points at the binary directly.
 */
export function findGoTool(
  name: string,
  envOverride?: string,
  env: NodeJS.ProcessEnv = process.env,
): { path: string; reason: undefined } | { path: undefined; reason: string } {
  const override = envOverride ? env[envOverride] : undefined;
  const candidate = override || path.join(toolsBinDir(env), name);
  try {
    accessSync(candidate, fsConstants.X_OK);
    if (!statSync(candidate).isFile()) throw new Error('not a file');
    return { path: candidate, reason: undefined };
  } catch {
    const how = override
      ? `${envOverride}=${override} is not an executable file`
      : `${candidate} not found; run scripts/setup/go-tools.sh${envOverride ? ` or set ${envOverride}` : ''}`;
    return { path: undefined, reason: `${name} unavailable: ${how}` };
  }
}

/** Locates etcd (>= 3.5) and kube-apiserver; Debian's etcd 3.4 on PATH is deliberately not used. */
export function findKubeBinaries(env: NodeJS.ProcessEnv = process.env): KubeBinariesLookup {
  const etcd = findGoTool('etcd', 'KCONMON_ETCD', env);
  const apiserver = findGoTool('kube-apiserver', 'KCONMON_KUBE_APISERVER', env);
  if (etcd.path !== undefined && apiserver.path !== undefined) {
    return { found: { etcd: etcd.path, kubeApiServer: apiserver.path }, reason: undefined };
  }
  const reasons = [etcd.reason, apiserver.reason].filter((r): r is string => r !== undefined);
  return { found: undefined, reason: reasons.join('; ') };
}

interface HttpResult {
  status: number;
  body: string;
}

function httpGet(url: string, opts: { token?: string; ca?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  return new Promise<HttpResult>((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req =
      u.protocol === 'https:'
        ? https.get(u, { headers, ca: opts.ca, rejectUnauthorized: opts.ca !== undefined, agent: false }, onResponse)
        : http.get(u, { headers, agent: false }, onResponse);
    req.setTimeout(opts.timeoutMs ?? 5_000, () => req.destroy(new Error(`timeout GET ${url}`)));
    req.on('error', reject);
  });
}

/** The last PEM certificate in the apiserver's self-signed bundle is its CA. */
function caFromServingBundle(bundlePem: string): string {
  const blocks = bundlePem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  const last = blocks?.at(-1);
  if (!last) throw new Error('no certificate found in apiserver serving bundle');
  return `${last}\n`;
}

function isApiStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

/** Client side of a kube-apiserver at `address` (read at each call, so a restarted apiserver's new CA is used). */
export function connectKubeApi(address: () => KubeApiAddress): KubeApi {
  const kubeConfigFor = (token: string): KubeConfig => {
    const { server, caPem } = address();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'kconmon-test', server, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'kconmon-test-user', token }],
      contexts: [{ name: 'kconmon-test', cluster: 'kconmon-test', user: 'kconmon-test-user' }],
      currentContext: 'kconmon-test',
    });
    return kc;
  };
  const adminKubeConfig = () => kubeConfigFor(address().adminToken);
  return {
    get server() {
      return address().server;
    },
    get adminToken() {
      return address().adminToken;
    },
    get caPem() {
      return address().caPem;
    },
    kubeConfigFor,
    adminKubeConfig,
    async writeKubeconfig(token, filePath) {
      const doc: unknown = JSON.parse(kubeConfigFor(token).exportConfig());
      await writeFile(filePath, YAML.stringify(doc), { mode: 0o600 });
    },
    async createServiceAccountToken(namespace, name, expirationSeconds = 3600) {
      const core = adminKubeConfig().makeApiClient(CoreV1Api);
      try {
        await core.createNamespace({ body: { metadata: { name: namespace } } });
      } catch (err) {
        if (!isApiStatus(err, 409)) throw err;
      }
      try {
        await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
      } catch (err) {
        if (!isApiStatus(err, 409)) throw err;
      }
      const res = await core.createNamespacedServiceAccountToken({
        name,
        namespace,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          // Empty audiences = the apiserver's own audience.
          spec: { audiences: [], expirationSeconds },
        },
      });
      const token = res.status?.token;
      if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
      return token;
    },
  };
}

class LocalKubeCluster implements KubeCluster {
  readonly server: string;
  readonly adminToken: string;
  readonly etcdEndpoint: string;
  readonly tempDir: string;
  readonly apiServerLogPath: string;
  readonly etcdLogPath: string;
  readonly serviceAccountKeyPath: string;

  #caPem = '';
  #bins: KubeBinaries;
  #opts: KubeClusterOptions;
  #apiPort: number;
  #etcdPeerPort: number;
  #etcd: LoggedProcess | undefined;
  #apiserver: LoggedProcess | undefined;
  #stopped = false;
  #api = connectKubeApi(() => ({ server: this.server, adminToken: this.adminToken, caPem: this.#caPem }));
  #onExit = (): void => {
    this.#apiserver?.killSync();
    this.#etcd?.killSync();
  };

  constructor(tempDir: string, bins: KubeBinaries, opts: KubeClusterOptions, ports: { api: number; etcdClient: number; etcdPeer: number }) {
    this.tempDir = tempDir;
    this.#bins = bins;
    this.#opts = opts;
    this.#apiPort = ports.api;
    this.#etcdPeerPort = ports.etcdPeer;
    this.server = `https://${opts.address ?? '127.0.0.1'}:${ports.api}`;
    this.etcdEndpoint = `http://127.0.0.1:${ports.etcdClient}`;
    this.adminToken = randomBytes(24).toString('hex');
    this.apiServerLogPath = path.join(tempDir, 'kube-apiserver.log');
    this.etcdLogPath = path.join(tempDir, 'etcd.log');
    this.serviceAccountKeyPath = path.join(tempDir, 'sa.key');
    process.on('exit', this.#onExit);
  }

  get caPem(): string {
    return this.#caPem;
  }

  get #startTimeoutMs(): number {
    return this.#opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  }

  async prepare(): Promise<void> {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await mkdir(path.join(this.tempDir, 'certs'), { recursive: true });
    await writeFile(path.join(this.tempDir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    await writeFile(path.join(this.tempDir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    // token,user,uid,"group1,group2"
    await writeFile(path.join(this.tempDir, 'tokens.csv'), `${this.adminToken},kconmon-admin,kconmon-admin,"system:masters"\n`, { mode: 0o600 });
  }

  async startEtcd(): Promise<void> {
    const peer = `http://127.0.0.1:${this.#etcdPeerPort}`;
    const args = [
      '--name=kconmon-test',
      `--data-dir=${path.join(this.tempDir, 'etcd-data')}`,
      `--listen-client-urls=${this.etcdEndpoint}`,
      `--advertise-client-urls=${this.etcdEndpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=kconmon-test=${peer}`,
      '--initial-cluster-state=new',
      '--unsafe-no-fsync',
      '--log-level=warn',
    ];
    const proc = startLoggedProcess('etcd', this.#bins.etcd, args, this.etcdLogPath);
    this.#etcd = proc;
    await this.#waitUntil(proc, async () => {
      const res = await httpGet(`${this.etcdEndpoint}/health`, { timeoutMs: 2_000 });
      return res.status === 200 && res.body.includes('"health":"true"');
    });
  }

  #apiServerArgs(): string[] {
    const d = this.tempDir;
    const address = this.#opts.address ?? '127.0.0.1';
    const loopback = address.startsWith('127.');
    return [
      `--etcd-servers=${this.etcdEndpoint}`,
      `--bind-address=${address}`,
      `--advertise-address=${address}`,
      `--secure-port=${this.#apiPort}`,
      `--cert-dir=${path.join(d, 'certs')}`,
      `--token-auth-file=${path.join(d, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${path.join(d, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(d, 'sa.key')}`,
      `--service-cluster-ip-range=${this.#opts.serviceClusterIpRange ?? '198.19.0.0/16'}`,
      // No controller-manager creates the "default" ServiceAccount, so Pods
      // could not be created with this plugin on.
      ...(this.#opts.serviceAccountAdmission ? [] : ['--disable-admission-plugins=ServiceAccount']),
      // The lease reconciler would publish 127.0.0.1 as the kubernetes
      // Service's endpoint, which Endpoints validation rejects (loopback).
      `--endpoint-reconciler-type=${loopback ? 'none' : 'lease'}`,
      '--allow-privileged=true',
      '--profiling=false',
      ...(this.#opts.extraApiServerArgs ?? []),
    ];
  }

  async startApiServer(): Promise<void> {
    if (this.#stopped) throw new Error('cluster is stopped');
    if (this.#apiserver?.running()) throw new Error('kube-apiserver is already running');
    if (!this.#etcd?.running()) throw new Error('etcd is not running');
    const proc = startLoggedProcess('kube-apiserver', this.#bins.kubeApiServer, this.#apiServerArgs(), this.apiServerLogPath);
    this.#apiserver = proc;
    await this.#waitUntil(proc, async () => {
      const res = await httpGet(`${this.server}/readyz`, { token: this.adminToken, timeoutMs: 5_000 });
      return res.status === 200;
    });
    const bundlePath = path.join(this.tempDir, 'certs', 'apiserver.crt');
    this.#caPem = caFromServingBundle(readFileSync(bundlePath, 'utf8'));
    // Prove that clients can verify the serving cert with that CA.
    const verified = await httpGet(`${this.server}/readyz`, { token: this.adminToken, ca: this.#caPem });
    if (verified.status !== 200) throw new Error(`/readyz with CA verification returned ${verified.status}`);
  }

  async stopApiServer(): Promise<void> {
    const proc = this.#apiserver;
    if (proc) await proc.stop('SIGTERM', STOP_GRACE_MS);
  }

  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  async #waitUntil(proc: LoggedProcess, probe: () => Promise<boolean>): Promise<void> {
    try {
      await waitUntil(
        `${proc.name} ready`,
        this.#startTimeoutMs,
        async () => {
          if (!proc.running()) throw new GiveUp(`${proc.name} exited during start-up (${proc.describeExit()})`);
          return probe();
        },
        250,
      );
    } catch (error) {
      await proc.stop('SIGTERM', STOP_GRACE_MS);
      throw new Error(`${(error as Error).message}; log ${proc.logFile}:\n${proc.logTail(LOG_TAIL_LINES)}`);
    }
  }

  kubeConfigFor(token: string): KubeConfig {
    return this.#api.kubeConfigFor(token);
  }

  adminKubeConfig(): KubeConfig {
    return this.#api.adminKubeConfig();
  }

  writeKubeconfig(token: string, filePath: string): Promise<void> {
    return this.#api.writeKubeconfig(token, filePath);
  }

  createServiceAccountToken(namespace: string, name: string, expirationSeconds?: number): Promise<string> {
    return this.#api.createServiceAccountToken(namespace, name, expirationSeconds);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await this.#apiserver?.stop('SIGTERM', STOP_GRACE_MS);
      await this.#etcd?.stop('SIGTERM', STOP_GRACE_MS);
    } finally {
      this.#onExit();
      process.off('exit', this.#onExit);
      if (!this.#opts.keepTempDir && process.env.KCONMON_KEEP_KUBE_TMP !== '1') {
        await rm(this.tempDir, { recursive: true, force: true });
      }
    }
  }
}

/** Starts etcd + kube-apiserver on loopback; resolves once /readyz is OK. */
export async function startKubeCluster(opts: KubeClusterOptions = {}): Promise<KubeCluster> {
  let bins = opts.binaries;
  if (!bins) {
    const lookup = findKubeBinaries();
    if (!lookup.found) throw new Error(lookup.reason);
    bins = lookup.found;
  }
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'kconmon-kube-'));
  const [api, etcdClient, etcdPeer] = (await freePorts(3)) as [number, number, number];
  const cluster = new LocalKubeCluster(tempDir, bins, opts, { api, etcdClient, etcdPeer });
  try {
    await cluster.prepare();
    await cluster.startEtcd();
    await cluster.startApiServer();
    return cluster;
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    if (!opts.keepTempDir && process.env.KCONMON_KEEP_KUBE_TMP !== '1' && err instanceof Error) {
      err.message += `\n(${tempDir} was removed; set KCONMON_KEEP_KUBE_TMP=1 to keep its logs and data)`;
    }
    throw err;
  }
}
