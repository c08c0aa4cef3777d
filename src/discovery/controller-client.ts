// Agent side of controller discovery: holds a watch stream to one controller replica, applies the snapshot and the
// versioned changes, and reports the agent set. On a lost or bad stream it keeps the last good set (the agent keeps
// probing) and reconnects with jittered exponential backoff, failing over to the next controller URL.
import http from 'node:http';
import https from 'node:https';
import { parseStreamLine, STREAM_CONTENT_TYPE, WATCH_PATH, type AgentEntry, type StreamMessage } from '../protocol/agent-stream.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../util/sleep.ts';

export interface AgentSetUpdate {
  readonly agents: readonly AgentEntry[];
  /** Zone of this agent's own node. */
  readonly zone: string;
  readonly version: number;
  readonly controller: string;
}

export interface ControllerClientOptions {
  readonly urls: readonly string[];
  readonly nodeName: string;
  readonly podName: string;
  readonly reconnect: { readonly min: number; readonly max: number };
  /** No byte for this long (heartbeats included) means the stream is dead. */
  readonly silenceTimeoutMs?: number;
  readonly log: Logger;
  readonly onUpdate: (update: AgentSetUpdate) => void;
  readonly onConnection?: (state: { connected: boolean; url: string }) => void;
}

export interface ControllerClient {
  close(): Promise<void>;
  connected(): boolean;
}

/** The largest line accepted (a snapshot of ~50,000 agents). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

class StreamError extends Error {}

export function startControllerClient(options: ControllerClientOptions): ControllerClient {
  const log = options.log.child({ component: 'controller-client' });
  const closing = new AbortController();
  const silenceTimeoutMs = options.silenceTimeoutMs ?? 20_000;
  let isConnected = false;
  let agents = new Map<string, AgentEntry>();
  let zone = 'unknown';
  let version = -1;
  let controller = '';
  let current: http.ClientRequest | undefined;

  function emit(): void {
    options.onUpdate({ agents: [...agents.values()], zone, version, controller });
  }

  function apply(message: StreamMessage, gotSnapshot: boolean): void {
    switch (message.type) {
      case 'snapshot':
        agents = new Map(message.agents.map((entry) => [entry.name, entry]));
        zone = message.self.zone;
        version = message.version;
        controller = message.controller;
        emit();
        return;
      case 'change': {
        if (!gotSnapshot) throw new StreamError('change before snapshot');
        if (message.version !== version + 1) throw new StreamError(`version gap: had ${version}, got change ${message.version}`);
        for (const name of message.remove) agents.delete(name);
        for (const entry of message.upsert) {
          agents.set(entry.name, entry);
          if (entry.nodeName === options.nodeName) zone = entry.zone;
        }
        version = message.version;
        emit();
        return;
      }
      case 'heartbeat':
        if (gotSnapshot && message.version !== version) throw new StreamError(`version gap: had ${version}, heartbeat says ${message.version}`);
    }
  }

  /** One connection: resolves when it ends; true if it delivered a snapshot (a healthy session). */
  function stream(base: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const url = new URL(WATCH_PATH, base.endsWith('/') ? base : `${base}/`);
      url.searchParams.set('node', options.nodeName);
      url.searchParams.set('pod', options.podName);
      const client = url.protocol === 'https:' ? https : http;
      let gotSnapshot = false;
      let buffered = '';
      let silence: NodeJS.Timeout | undefined;
      const request = client.get(url, { agent: false, headers: { accept: STREAM_CONTENT_TYPE } });
      current = request;
      const fail = (error: Error) => {
        clearTimeout(silence);
        request.destroy();
        reject(error);
      };
      const armSilence = () => {
        clearTimeout(silence);
        silence = setTimeout(() => fail(new StreamError(`no data for ${silenceTimeoutMs} ms`)), silenceTimeoutMs);
      };
      armSilence();
      request.on('error', (error) => {
        clearTimeout(silence);
        reject(error);
      });
      request.on('response', (response) => {
        if (response.statusCode !== 200) {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk.slice(0, 500)));
          response.on('end', () => fail(new StreamError(`HTTP ${response.statusCode}: ${body.trim().slice(0, 200)}`)));
          return;
        }
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          armSilence();
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) !== -1) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            if (line.trim() === '') continue;
            const parsed = parseStreamLine(line);
            if ('problems' in parsed) return fail(new StreamError(`bad message from the controller: ${parsed.problems.join('; ')}`));
            try {
              apply(parsed.message, gotSnapshot);
            } catch (error) {
              return fail(error as Error);
            }
            if (parsed.message.type === 'snapshot') {
              gotSnapshot = true;
              if (!isConnected) {
                isConnected = true;
                log.info({ url: base, version, agents: agents.size }, 'connected to controller');
                options.onConnection?.({ connected: true, url: base });
              }
            }
          }
          if (buffered.length > MAX_LINE_BYTES) fail(new StreamError(`a message exceeds ${MAX_LINE_BYTES} bytes`));
        });
        response.on('end', () => {
          clearTimeout(silence);
          resolve(gotSnapshot);
        });
        response.on('error', (error) => {
          clearTimeout(silence);
          reject(error);
        });
      });
    });
  }

  const loop = (async () => {
    let failures = 0;
    let index = Math.floor(Math.random() * options.urls.length);
    while (!closing.signal.aborted) {
      const base = options.urls[index % options.urls.length]!;
      let healthy = false;
      try {
        healthy = await stream(base);
        if (!closing.signal.aborted) log.warn({ url: base }, 'controller closed the stream');
      } catch (error) {
        if (closing.signal.aborted) break;
        log.warn({ url: base, error: (error as Error).message, agents: agents.size }, 'controller stream failed; keeping the last agent list');
      }
      if (isConnected) {
        isConnected = false;
        options.onConnection?.({ connected: false, url: base });
      }
      failures = healthy ? 0 : failures + 1;
      index++; // fail over to the next replica
      const ceiling = Math.min(options.reconnect.max, options.reconnect.min * 2 ** Math.min(failures, 20));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2), closing.signal);
    }
  })();

  return {
    async close() {
      closing.abort();
      current?.destroy();
      await loop;
    },
    connected: () => isConnected,
  };
}
