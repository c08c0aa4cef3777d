// A 32-bit string hash for peer selection: FNV-1a over the UTF-16 code units, finished with murmur3's avalanche mix
// (also what peer selection mixes two hashes with).
// Deterministic across processes and versions (no per-process seed), so every agent computes the same positions.

/** Hashes `text` to an unsigned 32-bit integer. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return avalanche(hash);
}

/** murmur3's 32-bit finaliser: every input bit flips about half of the output bits; unsigned 32-bit result. */
export function avalanche(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
