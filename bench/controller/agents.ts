// Child process: N simulated agents holding `GET /v1/watch?node=node-i&pod=agent-i` streams to the controller, cheap
// enough for one process. The (large) snapshot line is only counted, never parsed; the small change lines are read
// for their version, and the wall-clock time (performance.timeOrigin + performance.now(), comparable across processes
// on one machine) at which each agent received each change version is recorded. Driven by the parent over IPC:
//   → { type: 'connect', port, count, concurrency }   ← { type: 'connected', … } once every snapshot has arrived
//   → { type: 'collect' }                             ← { type: 'receipts', … }
//   → { type: 'close' }                               (exits)
import http from 'node:http';

export interface ConnectRequest {
  readonly type: 'connect';
  readonly port: number;
  readonly count: number;
  /** Connections opening or still receiving their snapshot at once; 0: all at once (a reconnect herd). */
  readonly concurrency: number;
  readonly timeoutMs: number;
}

export interface ConnectedReport {
  readonly type: 'connected';
  readonly ms: number;
  readonly snapshots: number;
  readonly snapshotBytes: number;
  /** Versions the snapshots were at (normally one). */
  readonly snapshotVersions: readonly number[];
  /** Time from starting to connect until each agent had its whole snapshot, ms, sorted. */
  readonly perAgentMs: readonly number[];
  readonly failures: number;
  readonly errors: readonly string[];
}

export interface ReceiptsReport {
  readonly type: 'receipts';
  readonly versions: readonly { readonly version: number; readonly line: string; readonly times: readonly (number | null)[] }[];
  readonly heartbeats: number;
  readonly gaps: number;
  readonly disconnects: number;
  readonly errors: readonly string[];
  /** Agents with an open stream now. */
  readonly open: number;
}

interface Agent {
  readonly index: number;
  request: http.ClientRequest | undefined;
  gotSnapshot: boolean;
  snapshotBytes: number;
  head: string;
  pending: string;
  version: number;
  open: boolean;
}

const now = () => performance.timeOrigin + performance.now();

let agents: Agent[] = [];
let closing = false;
let heartbeats = 0;
let gaps = 0;
let disconnects = 0;
const errors: string[] = [];
const receipts = new Map<number, { line: string; times: Float64Array }>();

function noteError(message: string): void {
  if (errors.length < 20) errors.push(message);
}

function onLine(agent: Agent, line: string, at: number): void {
  if (line.startsWith('{"type":"heartbeat"')) {
    heartbeats++;
    return;
  }
  if (!line.startsWith('{"type":"change"')) {
    noteError(`agent-${agent.index}: unexpected line ${line.slice(0, 80)}`);
    return;
  }
  const version = Number(/"version":(\d+)/.exec(line)?.[1]);
  if (version !== agent.version + 1) gaps++;
  agent.version = version;
  let receipt = receipts.get(version);
  if (!receipt) {
    receipt = { line: line.slice(0, 4000), times: new Float64Array(agents.length).fill(Number.NaN) };
    receipts.set(version, receipt);
  }
  receipt.times[agent.index] = at;
}

function connectAll(request: ConnectRequest): Promise<ConnectedReport> {
  agents = Array.from({ length: request.count }, (_, index) => ({
    index,
    request: undefined,
    gotSnapshot: false,
    snapshotBytes: 0,
    head: '',
    pending: '',
    version: -1,
    open: false,
  }));
  const started = now();
  const perAgentMs: number[] = [];
  const snapshotVersions = new Set<number>();
  let settled = 0;
  let failures = 0;
  let next = 0;
  const limit = request.concurrency > 0 ? request.concurrency : request.count;
  return new Promise<ConnectedReport>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      perAgentMs.sort((a, b) => a - b);
      resolve({
        type: 'connected',
        ms: now() - started,
        snapshots: perAgentMs.length,
        snapshotBytes: agents.reduce((sum, agent) => sum + agent.snapshotBytes, 0),
        snapshotVersions: [...snapshotVersions],
        perAgentMs,
        failures,
        errors: [...errors],
      });
    };
    const timer = setTimeout(finish, request.timeoutMs);
    const settle = () => {
      settled++;
      if (settled === request.count) finish();
      else startNext();
    };
    const startNext = () => {
      if (next >= request.count) return;
      open(
        agents[next++]!,
        request.port,
        settle,
        () => {
          failures++;
          settle();
        },
        perAgentMs,
        started,
        snapshotVersions,
      );
    };
    for (let i = 0; i < limit; i++) startNext();
  });
}

function open(
  agent: Agent,
  port: number,
  onSnapshot: () => void,
  onFailure: () => void,
  perAgentMs: number[],
  started: number,
  snapshotVersions: Set<number>,
): void {
  let settled = false;
  const fail = (message: string) => {
    if (!settled) {
      settled = true;
      noteError(`agent-${agent.index}: ${message}`);
      onFailure();
    }
  };
  const request = http.get({
    host: '127.0.0.1',
    port,
    path: `/v1/watch?node=node-${agent.index}&pod=agent-${agent.index}`,
    agent: false,
    headers: { accept: 'application/x-ndjson' },
  });
  agent.request = request;
  request.on('error', (error) => {
    if (!closing) fail(error.message);
  });
  request.on('response', (response) => {
    if (response.statusCode !== 200) {
      response.resume();
      fail(`HTTP ${response.statusCode}`);
      return;
    }
    agent.open = true;
    response.on('data', (chunk: Buffer) => {
      const at = now();
      let rest = chunk;
      if (!agent.gotSnapshot) {
        if (agent.head.length < 120) agent.head += chunk.subarray(0, 120).toString('latin1');
        const newline = chunk.indexOf(10);
        if (newline === -1) {
          agent.snapshotBytes += chunk.length;
          return;
        }
        agent.snapshotBytes += newline + 1;
        agent.gotSnapshot = true;
        const version = Number(/^\{"type":"snapshot","version":(\d+)/.exec(agent.head)?.[1] ?? Number.NaN);
        if (!Number.isInteger(version)) return fail(`the first line is no snapshot: ${agent.head.slice(0, 60)}`);
        agent.version = version;
        snapshotVersions.add(version);
        perAgentMs.push(at - started);
        if (!settled) {
          settled = true;
          onSnapshot();
        }
        rest = chunk.subarray(newline + 1);
      }
      if (rest.length === 0) return;
      agent.pending += rest.toString('utf8');
      for (let newline = agent.pending.indexOf('\n'); newline !== -1; newline = agent.pending.indexOf('\n')) {
        const line = agent.pending.slice(0, newline);
        agent.pending = agent.pending.slice(newline + 1);
        if (line) onLine(agent, line, at);
      }
    });
    response.on('close', () => {
      agent.open = false;
      if (!closing) {
        disconnects++;
        fail('stream closed by the controller');
      }
    });
  });
}

process.on('message', (message: { type: string } & Partial<ConnectRequest>) => {
  if (message.type === 'connect') {
    void connectAll(message as ConnectRequest).then((report) => process.send?.(report));
  } else if (message.type === 'collect') {
    const versions = [...receipts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([version, receipt]) => ({ version, line: receipt.line, times: Array.from(receipt.times, (t) => (Number.isNaN(t) ? null : t)) }));
    const report: ReceiptsReport = {
      type: 'receipts',
      versions,
      heartbeats,
      gaps,
      disconnects,
      errors: [...errors],
      open: agents.filter((agent) => agent.open).length,
    };
    process.send?.(report);
  } else if (message.type === 'close') {
    closing = true;
    for (const agent of agents) agent.request?.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
