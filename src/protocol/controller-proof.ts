// Mutual proof of the shared token on the watch: the agent sends a fresh random challenge with its bearer token, and
// the controller answers with HMAC-SHA256(token, challenge) in a response header. An agent holding a token accepts
// only a controller that proves it holds the same token, so a server that merely answers at the controller's address
// (a wrong URL, a spoofed name) cannot feed it a peer list. Against an active man in the middle, use TLS.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CHALLENGE_HEADER = 'x-kconmon-challenge';
export const PROOF_HEADER = 'x-kconmon-proof';

/** A fresh challenge (128 random bits, hex). */
export function newChallenge(): string {
  return randomBytes(16).toString('hex');
}

/** Whether a header value has the shape of a challenge (the controller answers nothing else). */
export function isChallenge(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value);
}

export function controllerProof(token: string, challenge: string): string {
  return createHmac('sha256', token).update(`kconmon-controller-proof:${challenge}`).digest('hex');
}

/** Checks a controller's proof in constant time. */
export function proofMatches(token: string, challenge: string, proof: unknown): boolean {
  if (typeof proof !== 'string' || !/^[0-9a-f]{64}$/.test(proof)) return false;
  return timingSafeEqual(Buffer.from(controllerProof(token, challenge), 'hex'), Buffer.from(proof, 'hex'));
}
