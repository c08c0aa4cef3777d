// The controller's end of the agents' report streams (`POST /v1/reports`): each request body is read line by line
// (bounded by the line framer), each batch parsed with the report protocol's schema and recorded into the verdict
// windows under the node the agent named. A bad line is one log line and a counter, and the stream is kept; a line
// over the cap ends the stream (the agent reconnects). Every open stream gets a heartbeat line, so agents notice a
// controller that stopped answering.
import type http from 'node:http';
import type { Logger } from '../log.ts';
import { createLineFramer, LineTooLongError } from '../protocol/line-framer.ts';
import { MAX_REPORT_LINE_BYTES, parseReportLine, REPORT_HEARTBEAT } from '../protocol/report-stream.ts';
import type { VerdictMetrics } from '../metrics/verdict-metrics.ts';
import type { VerdictWindows } from './verdict-windows.ts';

export interface ReportIntakeOptions {
  readonly windows: VerdictWindows;
  readonly metrics: VerdictMetrics;
  readonly log: Logger;
  /** The controller's clock (the windows' clock). */
  readonly now: () => number;
  readonly maxLineBytes?: number;
}

export interface ReportIntake {
  /** Reads one accepted report stream (the response's headers are already sent) until it ends. */
  accept(agent: { readonly nodeName: string; readonly podName: string | undefined }, request: http.IncomingMessage, response: http.ServerResponse): void;
  heartbeat(): void;
  streams(): number;
  close(): void;
}

const MAX_QUEUED_HEARTBEAT_BYTES = 64 * 1024;

export function createReportIntake(options: ReportIntakeOptions): ReportIntake {
  const log = options.log.child({ component: 'report-intake' });
  const open = new Set<http.ServerResponse>();
  const maxLineBytes = options.maxLineBytes ?? MAX_REPORT_LINE_BYTES;

  return {
    accept(agent, request, response) {
      open.add(response);
      options.metrics.setReportStreams(open.size);
      const framer = createLineFramer(maxLineBytes);
      request.on('data', (chunk: Buffer) => {
        let lines: string[];
        try {
          lines = framer.push(chunk);
        } catch (error) {
          if (!(error instanceof LineTooLongError)) throw error;
          options.metrics.reportRejected('line_too_long');
          log.warn({ node: agent.nodeName, pod: agent.podName }, `report stream closed: ${error.message}`);
          request.socket.destroy();
          return;
        }
        const receivedAt = options.now();
        for (const line of lines) {
          if (line.trim() === '') continue;
          const parsed = parseReportLine(line);
          if ('problems' in parsed) {
            options.metrics.reportRejected('bad_line');
            log.warn({ node: agent.nodeName, pod: agent.podName }, `bad report line ignored: ${parsed.problems.slice(0, 3).join('; ')}`);
            continue;
          }
          const { recorded, ignored } = options.windows.recordBatch(agent.nodeName, parsed.batch.outcomes, receivedAt);
          options.metrics.reports(recorded, ignored);
        }
      });
      request.on('end', () => response.end());
      request.socket.once('close', () => {
        open.delete(response);
        options.metrics.setReportStreams(open.size);
      });
    },
    heartbeat() {
      for (const response of open) {
        // An agent that stopped reading its heartbeats is gone (or hostile): its queued heartbeats stay bounded.
        if (response.writableLength > MAX_QUEUED_HEARTBEAT_BYTES) response.socket?.destroy();
        else response.write(REPORT_HEARTBEAT);
      }
    },
    streams: () => open.size,
    close() {
      for (const response of open) response.end();
      open.clear();
    },
  };
}
