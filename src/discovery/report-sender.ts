// Agent side of the reports: one long-lived `POST /v1/reports` per controller replica, fed from that replica's ring
// (report-queue.ts). A batch is written once a second, and only while the socket accepts it (after `write()` returned
// false, nothing more until `drain`): a slow controller fills its ring, never the agent's memory, and never slows
// probing. The controller must answer with the token's proof (as on the watch) and a heartbeat line at the interval it
// announces; a stream without a complete line for 3 heartbeats + a margin is dead, and the agent reconnects with
// backoff. While no stream is open, queued outcomes age out (`stale`).
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { HEARTBEAT_HEADER, STREAM_CONTENT_TYPE } from '../protocol/agent-stream.ts';
import { CHALLENGE_HEADER, newChallenge } from '../protocol/controller-proof.ts';
import { acceptControllerResponse } from './controller-response.ts';
import { createLineFramer, LineTooLongError } from '../protocol/line-framer.ts';
import { encodeReportBatch, MAX_OUTCOMES_PER_BATCH, REPORTS_PATH } from '../protocol/report-stream.ts';
import type { ReportQueue } from './report-queue.ts';
import type { Logger } from '../log.ts';
import { backoffDelay } from '../util/backoff.ts';
import { sleep } from '../util/sleep.ts';

export interface ReportSenderOptions {
  /** The controller's base URL (its host name is kept for the Host header and TLS verification). */
  readonly url: string;
  /** Connect to this address (one replica behind the URL's name) instead of resolving the URL's host. */
  readonly address?: string;
  readonly nodeName: string;
  readonly podName: string;
  readonly queue: ReportQueue;
  readonly reconnect: { readonly min: number; readonly max: number };
  /** How often a batch is written (default 1 s). */
  readonly batchIntervalMs?: number;
  /** Liveness when the controller announces no heartbeat; default 20 s. Else 3 heartbeats + livenessMarginMs. */
  readonly silenceTimeoutMs?: number;
  readonly livenessMarginMs?: number;
  readonly token?: () => Promise<string | undefined>;
  readonly ca?: string | Buffer;
  readonly log: Logger;
}

export interface ReportSender {
  connected(): boolean;
  close(): Promise<void>;
}

/** A lookup that answers every name with one address (so the request keeps the URL's Host and TLS server name). */
function fixedLookup(address: string): NonNullable<https.RequestOptions['lookup']> {
  const family = isIP(address);
  return ((_hostname: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (lookupOptions?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as NonNullable<https.RequestOptions['lookup']>;
}

const MIN_HEARTBEAT_MS = 100;
const MAX_HEARTBEAT_MS = 3_600_000;
/** The controller's response lines are heartbeats: short. */
const MAX_RESPONSE_LINE_BYTES = 4096;

export function startReportSender(options: ReportSenderOptions): ReportSender {
  const log = options.log.child({ component: 'report-sender', url: options.url, ...(options.address !== undefined ? { address: options.address } : {}) });
  const closing = new AbortController();
  const batchIntervalMs = options.batchIntervalMs ?? 1000;
  const fallbackLivenessMs = options.silenceTimeoutMs ?? 20_000;
  const livenessMarginMs = options.livenessMarginMs ?? 5000;
  let isConnected = false;
  let current: http.ClientRequest | undefined;

  /** One stream: resolves when it ends (true if the controller accepted it), rejects on an error. */
  async function stream(): Promise<boolean> {
    const headers: http.OutgoingHttpHeaders = { 'content-type': STREAM_CONTENT_TYPE, 'transfer-encoding': 'chunked' };
    const token = await options.token?.();
    const challenge = newChallenge();
    if (token !== undefined) {
      headers.authorization = `Bearer ${token}`;
      headers[CHALLENGE_HEADER] = challenge;
    }
    const url = new URL(REPORTS_PATH, options.url.endsWith('/') ? options.url : `${options.url}/`);
    url.searchParams.set('node', options.nodeName);
    url.searchParams.set('pod', options.podName);
    const isHttps = url.protocol === 'https:';
    const requestOptions: https.RequestOptions = { method: 'POST', agent: false, headers };
    const { address } = options;
    if (address !== undefined) requestOptions.lookup = fixedLookup(address);
    if (isHttps && options.ca !== undefined) requestOptions.ca = options.ca;
    return new Promise<boolean>((resolve, reject) => {
      const request = isHttps ? https.request(url, requestOptions) : http.request(url, requestOptions);
      current = request;
      let accepted = false;
      let liveness: NodeJS.Timeout | undefined;
      let ticker: NodeJS.Timeout | undefined;
      let waitingForDrain = false;
      const finish = (error?: Error) => {
        clearTimeout(liveness);
        clearInterval(ticker);
        request.destroy();
        if (error) reject(error);
        else resolve(accepted);
      };
      const arm = (ms: number) => {
        clearTimeout(liveness);
        liveness = setTimeout(() => finish(new Error(`no heartbeat from the controller for ${ms} ms`)), ms);
      };
      arm(fallbackLivenessMs);
      request.on('error', (error) => finish(error));
      request.on('drain', () => {
        waitingForDrain = false;
      });
      request.on('response', (response) => {
        if (!acceptControllerResponse(response, { token, challenge }, (message) => finish(new Error(message)))) return;
        const announced = Number(response.headers[HEARTBEAT_HEADER]);
        const livenessMs =
          Number.isInteger(announced) && announced >= MIN_HEARTBEAT_MS && announced <= MAX_HEARTBEAT_MS ? announced * 3 + livenessMarginMs : fallbackLivenessMs;
        accepted = true;
        if (!isConnected) {
          isConnected = true;
          log.info({ livenessMs }, 'reporting to controller');
        }
        arm(livenessMs);
        const framer = createLineFramer(MAX_RESPONSE_LINE_BYTES);
        response.on('data', (chunk: Buffer) => {
          try {
            if (framer.push(chunk).length > 0) arm(livenessMs);
          } catch (error) {
            if (error instanceof LineTooLongError) return finish(new Error(`bad heartbeat from the controller: ${error.message}`));
            throw error;
          }
        });
        response.on('end', () => finish());
        response.on('error', (error) => finish(error));
        ticker = setInterval(() => {
          if (waitingForDrain) return; // the socket holds a batch already: the ring keeps (and bounds) the rest
          const outcomes = options.queue.take(performance.now(), MAX_OUTCOMES_PER_BATCH);
          if (outcomes.length === 0) return;
          if (!request.write(encodeReportBatch({ sent: performance.now(), outcomes }))) waitingForDrain = true;
        }, batchIntervalMs);
      });
      // Sends the headers now: the controller answers before any batch is written.
      request.flushHeaders();
    });
  }

  const loop = (async () => {
    let failures = 0;
    // While no stream is open, outcomes older than a verdict window are useless: drop them as they age.
    const pruner = setInterval(() => {
      if (!isConnected) options.queue.pruneStale(performance.now());
    }, batchIntervalMs);
    try {
      while (!closing.signal.aborted) {
        let accepted = false;
        try {
          accepted = await stream();
          if (!closing.signal.aborted) log.warn('controller closed the report stream');
        } catch (error) {
          if (closing.signal.aborted) break;
          log.warn({ error: (error as Error).message, queued: options.queue.size() }, 'report stream failed; outcomes wait in the queue');
        }
        isConnected = false;
        failures = accepted ? 0 : failures + 1;
        await sleep(backoffDelay(options.reconnect, failures), closing.signal);
      }
    } finally {
      clearInterval(pruner);
    }
  })();

  return {
    connected: () => isConnected,
    async close() {
      closing.abort();
      current?.destroy();
      await loop;
    },
  };
}
