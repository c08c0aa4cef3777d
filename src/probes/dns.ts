// DNS probe: one query for a target's A or AAAA record through a c-ares resolver aimed at the target's servers,
// timed on the monotonic clock (c-ares runs on the event loop, not the libuv thread pool like dns.lookup).
import { Resolver } from 'node:dns/promises';
import type { DnsTarget } from '../config/schema.ts';
import { parseResolverAddress } from '../validation/validators.ts';

export type DnsFailureReason = 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'unreachable' | 'timeout' | 'error';

export interface DnsProbeResult {
  readonly kind: 'dns';
  readonly passed: boolean;
  readonly durationMs: number;
  readonly answers: readonly string[];
  readonly reason: DnsFailureReason | undefined;
  readonly detail: string | undefined;
}

/** A resolver for one target: its own servers (or the system's from /etc/resolv.conf), one try, our timeout. */
export function createTargetResolver(target: DnsTarget, timeoutMs: number): Resolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
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
 * `timeoutMs` itself and cancels the query. The resolver must serve one target only (cancel() is per resolver).
 */
export async function probeDns(resolver: Resolver, target: Pick<DnsTarget, 'host' | 'type'>, timeoutMs: number): Promise<DnsProbeResult> {
  const startedAt = process.hrtime.bigint();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      resolver.cancel();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEOUT' }));
    }, timeoutMs);
  });
  try {
    const query = target.type === 'AAAA' ? resolver.resolve6(target.host) : resolver.resolve4(target.host);
    query.catch(() => undefined); // a query cancelled at the deadline rejects later; it is already reported
    const answers = await Promise.race([query, deadline]);
    const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
    if (answers.length === 0) return { kind: 'dns', passed: false, durationMs, answers, reason: 'nodata', detail: 'no answers' };
    return { kind: 'dns', passed: true, durationMs, answers, reason: undefined, detail: undefined };
  } catch (error) {
    const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
    const code = (error as NodeJS.ErrnoException).code;
    return { kind: 'dns', passed: false, durationMs, answers: [], reason: dnsReasonFor(code), detail: code ?? (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export function dnsReasonFor(code: string | undefined): DnsFailureReason {
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
