// DNS probe: one query for a target's A or AAAA record through a c-ares resolver aimed at the target's servers,
// timed on the monotonic clock (c-ares runs on the event loop, not the libuv thread pool like dns.lookup).
import { Resolver } from 'node:dns/promises';
import { resolveDnsTargets, type AgentConfig, type DnsTarget } from '../config/schema.ts';
import { parseResolverAddress } from '../validation/validators.ts';
import { roundMs, type ProbeKind } from './probe-kind.ts';

/** Every reason a DNS test fails for (the `reason` label of its failure counter). */
export const DNS_FAILURE_REASONS = ['nxdomain', 'nodata', 'servfail', 'refused', 'unreachable', 'timeout', 'error'] as const;
export type DnsFailureReason = (typeof DNS_FAILURE_REASONS)[number];

export interface DnsProbeResult {
  readonly kind: 'dns';
  readonly passed: boolean;
  /** The query was cancelled (agent stopping): not a result. */
  readonly aborted: boolean;
  readonly durationMs: number;
  readonly answers: readonly string[];
  readonly reason: DnsFailureReason | undefined;
  readonly detail: string | undefined;
}

/**
 * A resolver for one target: its own servers (or the system's from /etc/resolv.conf), one try, our timeout. c-ares
 * caps one try at 5 s unless told a larger maximum: without `maxTimeout`, a `dns.timeout` above 5 s failed at 5 s.
 */
export function createTargetResolver(target: DnsTarget, timeoutMs: number): Resolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1, maxTimeout: timeoutMs });
  if (target.resolvers && target.resolvers.length > 0) {
    resolver.setServers(
      target.resolvers.map((server) => {
        const parsed = parseResolverAddress(server);
        if (!parsed) throw new Error(`dns: invalid resolver address "${server}"`);
        return parsed.address.includes(':') ? `[${parsed.address}]:${parsed.port}` : `${parsed.address}:${parsed.port}`;
      }),
    );
  }
  return resolver;
}

/**
 * One query with a hard deadline: c-ares may retry past its own timeout (e.g. without EDNS), so the probe enforces
 * `timeoutMs` itself and cancels the query; `signal` cancels it too (then the result is `aborted`). The resolver must
 * serve one target only (cancel() is per resolver).
 */
export async function probeDns(resolver: Resolver, target: Pick<DnsTarget, 'host' | 'type'>, timeoutMs: number, signal?: AbortSignal): Promise<DnsProbeResult> {
  const startedAt = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - startedAt) / 1e6;
  if (signal?.aborted) return { kind: 'dns', passed: false, aborted: true, durationMs: 0, answers: [], reason: undefined, detail: 'aborted' };
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<'timeout' | 'aborted'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    onAbort = () => resolve('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const query = target.type === 'AAAA' ? resolver.resolve6(target.host) : resolver.resolve4(target.host);
    // A query cancelled at the deadline or on abort rejects later; it is already reported.
    const answered = query.then(
      (answers) => ({ answers }),
      (error: NodeJS.ErrnoException) => ({ error }),
    );
    const outcome = await Promise.race([answered, stopped]);
    const durationMs = elapsedMs();
    if (outcome === 'timeout' || outcome === 'aborted') {
      resolver.cancel();
      if (outcome === 'aborted') return { kind: 'dns', passed: false, aborted: true, durationMs, answers: [], reason: undefined, detail: 'aborted' };
      return { kind: 'dns', passed: false, aborted: false, durationMs, answers: [], reason: 'timeout', detail: 'ETIMEOUT' };
    }
    if ('error' in outcome) {
      const code = outcome.error.code;
      return { kind: 'dns', passed: false, aborted: false, durationMs, answers: [], reason: dnsReasonFor(code), detail: code ?? outcome.error.message };
    }
    const { answers } = outcome;
    if (answers.length === 0) return { kind: 'dns', passed: false, aborted: false, durationMs, answers, reason: 'nodata', detail: 'no answers' };
    return { kind: 'dns', passed: true, aborted: false, durationMs, answers, reason: undefined, detail: undefined };
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** What `/results` shows of a DNS test. */
export interface DnsSummary {
  readonly durationMs: number | null;
  readonly answers: readonly string[];
  readonly reason: DnsFailureReason | null;
  readonly detail: string | null;
}

export interface DnsKindOptions {
  readonly timeoutMs: number;
  /** One resolver per target, made once (a resolver's cancel() cancels all its queries). */
  resolverFor(target: DnsTarget): Resolver;
}

/** A query for each configured DNS target (its targets come from the config, not from the peer set). */
export const dnsProbe: ProbeKind<'dns', DnsTarget, DnsKindOptions, DnsProbeResult, DnsSummary> = {
  name: 'dns',
  async prepare(config) {
    const { dns } = config;
    if (!dns.enabled) return undefined;
    const resolvers = new Map<DnsTarget, Resolver>();
    const resolverFor = (target: DnsTarget) => {
      let resolver = resolvers.get(target);
      if (!resolver) {
        resolver = createTargetResolver(target, dns.timeout);
        resolvers.set(target, resolver);
      }
      return resolver;
    };
    return { intervalMs: dns.interval, options: { timeoutMs: dns.timeout, resolverFor }, close: () => resolvers.clear() };
  },
  run: (target, options, signal) => probeDns(options.resolverFor(target), target, options.timeoutMs, signal),
  summarise: (result) =>
    result.aborted
      ? undefined
      : { durationMs: roundMs(result.durationMs), answers: result.answers, reason: result.reason ?? null, detail: result.detail ?? null },
  measure: (result) =>
    result.aborted ? undefined : { packetsSent: 1, packetsLost: result.passed ? 0 : 1, rttMs: result.passed ? result.durationMs : undefined },
};

/** The DNS targets the config lists (none when DNS is off). */
export function configuredDnsTargets(config: AgentConfig): DnsTarget[] {
  return config.dns.enabled ? resolveDnsTargets(config) : [];
}

function dnsReasonFor(code: string | undefined): DnsFailureReason {
  switch (code) {
    case 'ENOTFOUND':
      return 'nxdomain';
    case 'ENODATA':
      return 'nodata';
    case 'ESERVFAIL':
      return 'servfail';
    case 'EREFUSED':
      return 'refused';
    case 'ETIMEOUT':
      return 'timeout';
    case 'ECONNREFUSED':
      // Nothing listens (ICMP port unreachable), e.g. a stopped server or a Service without endpoints.
      return 'unreachable';
    default:
      return 'error';
  }
}
