// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by origin (agent source, each
// dependency, Node internals, GC), as a share of the non-idle samples. Also runnable: node bench/agent/profile-summary.ts FILE
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileLine {
  readonly name: string;
  readonly selfMs: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly busyMs: number;
  readonly functions: readonly ProfileLine[];
  readonly origins: readonly ProfileLine[];
  /** Each sample charged to the innermost agent src/ function on its stack (what the agent was doing). */
  readonly agentFrames: readonly ProfileLine[];
}

function summariseProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i: the time after sample i is timeDeltas[i + 1].
  profile.samples.forEach((id, index) => {
    const weight = profile.timeDeltas[index + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + weight);
  });
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const functions = new Map<string, number>();
  const origins = new Map<string, number>();
  const agentFrames = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const file = shortUrl(url);
    const key = file ? `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}` : functionName || '(anonymous)';
    functions.set(key, (functions.get(key) ?? 0) + us);
    const origin = originOf(url, functionName);
    origins.set(origin, (origins.get(origin) ?? 0) + us);
    let frame: ProfileNode | undefined = node;
    while (frame && !frame.callFrame.url.includes('/src/')) frame = byId.get(parent.get(frame.id) ?? -1);
    const owner = frame
      ? `${frame.callFrame.functionName || '(anonymous)'} ${shortUrl(frame.callFrame.url)}:${frame.callFrame.lineNumber + 1}`
      : `(no agent frame) ${origin}`;
    agentFrames.set(owner, (agentFrames.get(owner) ?? 0) + us);
  }
  const lines = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: busy / 1000,
    functions: lines(functions),
    origins: lines(origins),
    agentFrames: lines(agentFrames),
  };
}

function shortUrl(url: string): string {
  if (!url) return '';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) return url.slice(modules + '/node_modules/'.length);
  const src = url.lastIndexOf('/src/');
  if (src !== -1) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

function originOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return `npm:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  if (url.includes('/src/')) return 'agent src/';
  return url;
}

export function formatProfile(summary: ProfileSummary): string {
  const line = (entry: ProfileLine) => `  ${(entry.share * 100).toFixed(1).padStart(5)} %  ${entry.selfMs.toFixed(0).padStart(7)} ms  ${entry.name}`;
  return [
    `profile: ${summary.totalMs.toFixed(0)} ms wall, ${summary.busyMs.toFixed(0)} ms on CPU (non-idle samples)`,
    'self time by origin:',
    ...summary.origins.map(line),
    'self time by function:',
    ...summary.functions.map(line),
    'time by innermost agent src/ frame on the stack:',
    ...summary.agentFrames.map(line),
  ].join('\n');
}

export async function summariseProfileFile(path: string, top = 25): Promise<ProfileSummary> {
  return summariseProfile(JSON.parse(await readFile(path, 'utf8')) as CpuProfile, top);
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/agent/profile-summary.ts FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(formatProfile(await summariseProfileFile(file, Number(process.argv[3] ?? 25))));
}
