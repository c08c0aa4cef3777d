// `kconmon status`: asks a controller replica for its verdicts (`GET /api/v1/status`) and prints them as a table of
// one-line summaries, or the document itself with `-o json`. Exit status: 0 healthy, 1 a verdict is active, the
// controller has too little data to tell, or it cannot be asked.
import type { StatusDocument } from '../controller/verdict-status.ts';
import { STATUS_API_VERSION, STATUS_PATH } from '../controller/verdict-status.ts';

export const DEFAULT_STATUS_CONTROLLER = 'http://127.0.0.1:8080';

export interface StatusCommandOptions {
  readonly controller: string;
  readonly output: 'table' | 'json';
  readonly timeoutMs?: number;
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
}

export async function runStatusCommand(options: StatusCommandOptions): Promise<number> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  const err = options.err ?? ((text: string) => process.stderr.write(text));
  const url = new URL(STATUS_PATH, options.controller.endsWith('/') ? options.controller : `${options.controller}/`);
  let document: StatusDocument;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).trim().slice(0, 200)}`);
    document = (await response.json()) as StatusDocument;
    if (document?.apiVersion !== STATUS_API_VERSION)
      throw new Error(`unexpected apiVersion ${JSON.stringify(document?.apiVersion)} (want ${STATUS_API_VERSION})`);
  } catch (error) {
    err(`kconmon status: cannot read ${url.href}: ${(error as Error).message}\n`);
    return 1;
  }
  if (options.output === 'json') out(`${JSON.stringify(document, null, 2)}\n`);
  else out(renderTable(document));
  return document.healthy === true ? 0 : 1;
}

function renderTable(document: StatusDocument): string {
  const { coverage: c, window } = document;
  const lines: string[] = [];
  const windowText = window === null ? 'no window closed yet' : `window ${window.start} – ${window.end}`;
  lines.push(
    `controller ${document.controller}, ${windowText}: ${c.agentsReporting} of ${c.agents} agents reporting, ${c.pairsKnown} of ${c.pairsAssigned} pairs known`,
  );
  if (document.verdicts.length === 0) {
    lines.push(document.healthy === true ? 'healthy: no verdict' : 'unknown: too little data for a verdict (no data is not healthy)');
    return `${lines.join('\n')}\n`;
  }
  const rows = [
    ['KIND', 'SUBJECT', 'SINCE', 'SUMMARY'],
    ...document.verdicts.map((v) => [v.kind, v.id, v.since, `${v.summary}${v.clearing ? ' [clearing]' : ''}`]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) lines.push(row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell)).join('  '));
  return `${lines.join('\n')}\n`;
}
