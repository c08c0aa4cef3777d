// Reads a PEM file (a certificate or a private key) named by a configuration option, failing with one line that names
// the option and the file when it cannot be read or holds no such PEM block.
import { readFile } from 'node:fs/promises';

const PEM_BLOCK = {
  certificate: /-----BEGIN CERTIFICATE-----/,
  'private key': /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/,
} as const;

export async function readPemFile(path: string, option: string, kind: keyof typeof PEM_BLOCK): Promise<Buffer> {
  let pem: Buffer;
  try {
    pem = await readFile(path);
  } catch (error) {
    throw new Error(`${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!PEM_BLOCK[kind].test(pem.toString('latin1'))) throw new Error(`${option}: ${path} holds no PEM ${kind}`);
  return pem;
}
