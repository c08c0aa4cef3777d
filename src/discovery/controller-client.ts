// Agent side of controller discovery: holds a watch stream to one controller replica, applies the snapshot and the
// versioned changes, and reports the agent set. On a lost or bad stream it keeps the last good set (the agent keeps
// probing) and reconnects with jittered exponential backoff, failing over to the next controller URL.
// Liveness counts complete messages, not bytes: no snapshot within the liveness timeout of connecting, or no message
// for that long after it, ends the stream. The timeout follows the heartbeat the controller announces. With a token,
// the agent also requires the controller to prove it holds the same token (controller-proof.ts).
import http from 'node:http';
import https from 'node:https';
import {
  HEARTBEAT_HEADER,
  MAX_MESSAGE_BYTES,
  parseStreamLine,
  STREAM_CONTENT_TYPE,
  WATCH_PATH,
  type AgentEntry,
  type StreamMessage,
} from '../protocol/agent-stream.ts';
import { createLineFramer, LineTooLongError } from '../protocol/line-framer.ts';
import { CHALLENGE_HEADER, newChallenge } from '../protocol/controller-proof.ts';
import { acceptControllerResponse } from './controller-response.ts';
import type { Logger } from '../log.ts';
import { backoffDelay } from '../util/backoff.ts';
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
  /** Liveness timeout when the controller announces no heartbeat (an older controller); default 20 s. */
  readonly silenceTimeoutMs?: number;
  /** Liveness = this many announced heartbeats + livenessMarginMs. */
  readonly heartbeatsPerLiveness?: number;
  readonly livenessMarginMs?: number;
  /** The longest message accepted (default MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  /** Returns the bearer token to send (read per connection, so a rotated token is picked up), or undefined. */
  readonly token?: () => Promise<string | undefined>;
  /** PEM CA certificate(s): https URLs are verified against these only. */
  readonly ca?: string | Buffer;
  /** Index of the first URL tried (default: random, spreading agents over replicas). */
  readonly startIndex?: number;
  readonly log: Logger;
  readonly onUpdate: (update: AgentSetUpdate) => void;
  readonly onConnection?: (state: { connected: boolean; url: string }) => void;
}

export interface ControllerClientStats {
  /** The most bytes of an incomplete message held at once, over every stream. */
  readonly peakBufferedBytes: number;
  /** Streams opened (each connection attempt that got a response). */
  readonly streams: number;
}

export interface ControllerClient {
  close(): Promise<void>;
  connected(): boolean;
  stats(): ControllerClientStats;
}

const DEFAULT_SILENCE_TIMEOUT_MS = 20_000;
const MIN_HEARTBEAT_MS = 100;
const MAX_HEARTBEAT_MS = 3_600_000;

class StreamError extends Error {}

export function startControllerClient(options: ControllerClientOptions): ControllerClient {
  const log = options.log.child({ component: 'controller-client' });
  const closing = new AbortController();
  const fallbackLivenessMs = options.silenceTimeoutMs ?? DEFAULT_SILENCE_TIMEOUT_MS;
  const heartbeatsPerLiveness = options.heartbeatsPerLiveness ?? 3;
  const livenessMarginMs = options.livenessMarginMs ?? 5000;
  const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  let isConnected = false;
  let agents = new Map<string, AgentEntry>();
  let zone = 'unknown';
  let version = -1;
  let controller = '';
  let current: http.ClientRequest | undefined;
  let peakBufferedBytes = 0;
  let streams = 0;

  function emit(): void {
    options.onUpdate({ agents: [...agents.values()], zone, version, controller });
  }

  function apply(message: StreamMessage, gotSnapshot: boolean): void {
    switch (message.type) {
      case 'snapshot':
        if (gotSnapshot && message.version < version) throw new StreamError(`version regression: had ${version}, got snapshot ${message.version}`);
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

  /** The liveness timeout for a stream whose response announced `header` (or nothing). */
  function livenessFor(header: string | string[] | undefined, base: string): number {
    if (header === undefined) return fallbackLivenessMs;
    const announced = Number(header);
    if (!Number.isInteger(announced) || announced < MIN_HEARTBEAT_MS || announced > MAX_HEARTBEAT_MS) {
      log.warn({ url: base, header: String(header) }, `ignoring ${HEARTBEAT_HEADER}: not an integer of ms within ${MIN_HEARTBEAT_MS}–${MAX_HEARTBEAT_MS}`);
      return fallbackLivenessMs;
    }
    return announced * heartbeatsPerLiveness + livenessMarginMs;
  }

  /** One connection: resolves when it ends; true if it delivered a snapshot (a healthy session). */
  async function stream(base: string): Promise<boolean> {
    const headers: http.OutgoingHttpHeaders = { accept: STREAM_CONTENT_TYPE };
    const token = await options.token?.();
    const challenge = newChallenge();
    if (token !== undefined) {
      headers.authorization = `Bearer ${token}`;
      headers[CHALLENGE_HEADER] = challenge;
    }
    return new Promise<boolean>((resolve, reject) => {
      const url = new URL(WATCH_PATH, base.endsWith('/') ? base : `${base}/`);
      url.searchParams.set('node', options.nodeName);
      url.searchParams.set('pod', options.podName);
      const isHttps = url.protocol === 'https:';
      let gotSnapshot = false;
      let liveness: NodeJS.Timeout | undefined;
      let livenessMs = fallbackLivenessMs;
      const requestOptions: https.RequestOptions = { agent: false, headers };
      if (isHttps && options.ca !== undefined) requestOptions.ca = options.ca;
      const request = isHttps ? https.get(url, requestOptions) : http.get(url, requestOptions);
      current = request;
      const fail = (error: Error) => {
        clearTimeout(liveness);
        request.destroy();
        reject(error);
      };
      /** (Re)starts the deadline for the next complete message (before the snapshot: for the snapshot). */
      const armLiveness = () => {
        clearTimeout(liveness);
        const what = gotSnapshot ? 'no complete message' : 'no snapshot';
        liveness = setTimeout(() => fail(new StreamError(`${what} for ${livenessMs} ms`)), livenessMs);
      };
      armLiveness();
      request.on('error', (error) => {
        clearTimeout(liveness);
        reject(error);
      });
      request.on('response', (response) => {
        if (!acceptControllerResponse(response, { token, challenge }, (message) => fail(new StreamError(message)))) return;
        streams++;
        livenessMs = livenessFor(response.headers[HEARTBEAT_HEADER], base);
        armLiveness();
        const framer = createLineFramer(maxMessageBytes);
        response.on('data', (chunk: Buffer) => {
          let lines: string[];
          try {
            lines = framer.push(chunk);
          } catch (error) {
            if (error instanceof LineTooLongError) return fail(new StreamError(`bad message from the controller: ${error.message}`));
            throw error;
          } finally {
            peakBufferedBytes = Math.max(peakBufferedBytes, framer.peakBufferedBytes());
          }
          for (const line of lines) {
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
                log.info({ url: base, version, agents: agents.size, livenessMs }, 'connected to controller');
                options.onConnection?.({ connected: true, url: base });
              }
            }
            // Only messages after the snapshot prove the stream alive: heartbeats alone never replace a snapshot.
            if (gotSnapshot) armLiveness();
          }
        });
        response.on('end', () => {
          clearTimeout(liveness);
          resolve(gotSnapshot);
        });
        response.on('error', (error) => {
          clearTimeout(liveness);
          reject(error);
        });
      });
    });
  }

  const loop = (async () => {
    let failures = 0;
    let index = options.startIndex ?? Math.floor(Math.random() * options.urls.length);
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
      await sleep(backoffDelay(options.reconnect, failures), closing.signal);
    }
  })();

  return {
    async close() {
      closing.abort();
      current?.destroy();
      await loop;
    },
    connected: () => isConnected,
    stats: () => ({ peakBufferedBytes, streams }),
  };
}
