// Zod rules shared by every schema (agent config, controller config, peers file, the controller's stream): bounded
// integers, IP and resolver addresses, the metric prefix, the log level, file paths. Each says in its message which
// rule was broken, so a bad value is reported as one line naming the field.
import { isIP } from 'node:net';
import { z } from 'zod';

/** An integer of milliseconds (or a count) within bounds, with messages that name the rule broken. */
export function boundedInt(min: number, max: number) {
  return z.number({ error: 'must be a number' }).int('must be an integer').min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);
}

/** A TCP or UDP port to listen on. */
export const listenPort = boundedInt(1, 65535);

/** An IPv4 or IPv6 literal (no host names: every probe dials an explicit address). */
export const ipAddress = z.string({ error: 'must be a string' }).refine((value) => isIP(value) !== 0, 'must be an IPv4 or IPv6 address');

/** A DNS resolver: an IP literal, optionally with a port (`10.0.0.10`, `127.0.0.1:5353`, `[::1]:53`). */
export const resolverAddress = z
  .string({ error: 'must be a string' })
  .refine((value) => parseResolverAddress(value) !== undefined, 'must be an IP address, optionally with :port (IPv6 as [addr]:port)');

export function parseResolverAddress(value: string): { address: string; port: number } | undefined {
  if (isIP(value) !== 0) return { address: value, port: 53 };
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:]+):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const address = match[1] as string;
  const port = Number(match[2]);
  if (isIP(address) === 0 || port < 1 || port > 65535) return undefined;
  return { address, port };
}

/** The prefix of every metric name. */
export const metricsPrefix = z
  .string({ error: 'must be a string' })
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a valid Prometheus metric name prefix ([a-zA-Z_][a-zA-Z0-9_]*)');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const logLevel = z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` });

/** A path of a file to read (relative paths resolve against the config file's folder). */
export const filePath = z.string({ error: 'must be a file path' }).min(1, 'must not be empty');

/** A string that must say something. */
export const nonEmptyString = z.string({ error: 'must be a string' }).min(1, 'must not be empty');

/** A range's upper bound below its lower bound: one issue on the upper bound naming the lower (`must be ≥ min (50)`). */
export function checkRange(ctx: z.RefinementCtx, path: PropertyKey[], range: { readonly low: number; readonly high: number }, lowName: string): void {
  if (range.high < range.low) ctx.addIssue({ code: 'custom', path, message: `must be ≥ ${lowName} (${range.low})` });
}

/** Objects say what they must be when given something else (`udp: must be an object`). */
export const OBJECT = { error: 'must be an object' } as const;
