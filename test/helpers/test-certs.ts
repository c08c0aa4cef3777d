// Test certificates made at test time with openssl (nothing committed): a CA and a server certificate it signed for
// the given IP addresses and DNS names, written as PEM files into a directory.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestServerCert {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Why openssl cannot be used, or undefined when it can. */
export function opensslUnavailable(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'openssl is not installed';
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createTestCa(dir: string, name: string): TestCa {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile];
  openssl(['req', '-x509', ...key, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`]);
  return { certFile, keyFile };
}

export function createServerCert(dir: string, ca: TestCa, name: string, altNames: { ips?: string[]; dns?: string[] }): TestServerCert {
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  const san = [...(altNames.ips ?? []).map((ip) => `IP:${ip}`), ...(altNames.dns ?? []).map((dns) => `DNS:${dns}`)].join(',');
  writeFileSync(extFile, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${name}`]);
  openssl(['x509', '-req', '-in', csrFile, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', extFile]);
  return { certFile, keyFile };
}
