// JSON logs with pino; every part of the program logs through a child carrying its `component`.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { ...base }, timestamp: pino.stdTimeFunctions.isoTime });
}
