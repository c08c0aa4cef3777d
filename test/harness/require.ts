// Skip policy for test suites that need something the machine may lack
// (real Kubernetes binaries, network namespaces, root, ...).
//
// A "reason" is a human-readable explanation of what is missing, or
// `undefined` when the capability is available. When it is missing the test
// is skipped with that reason, unless KCONMON_REQUIRE_ALL=1 is set (CI), in
// which case the test FAILS with the reason instead.
import type { TestContext } from 'node:test';

/** True when the environment demands that no capability-gated test is skipped. */
export function requireAll(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.KCONMON_REQUIRE_ALL === '1';
}

/** Error used when a required capability is missing under KCONMON_REQUIRE_ALL=1. */
export class RequiredCapabilityMissing extends Error {
  constructor(reason: string) {
    super(`required capability unavailable (KCONMON_REQUIRE_ALL=1): ${reason}`);
    this.name = 'RequiredCapabilityMissing';
  }
}

/**
 * Use inside a test: `if (!skipUnlessAvailable(t, reason)) return;`
 * Returns true when available. Otherwise marks the test skipped and returns
 * false, or throws RequiredCapabilityMissing (failing the test) when
 * KCONMON_REQUIRE_ALL=1.
 */
export function skipUnlessAvailable(t: TestContext, reason: string | undefined): boolean {
  if (reason === undefined) return true;
  if (requireAll()) throw new RequiredCapabilityMissing(reason);
  t.diagnostic(`skipped: ${reason}`);
  t.skip(reason);
  return false;
}

/**
 * Use as the `skip` option of describe()/test():
 * `describe('x', { skip: skipOption(reason) }, ...)`.
 * Returns false when available, the reason (skip) when missing, and throws
 * RequiredCapabilityMissing when KCONMON_REQUIRE_ALL=1, which fails the
 * whole test file with the reason.
 */
export function skipOption(reason: string | undefined): string | false {
  if (reason === undefined) return false;
  if (requireAll()) throw new RequiredCapabilityMissing(reason);
  return reason;
}
