// Confidence bounds for a loss rate measured as `lost` of `sent` packets: the Wilson score interval, closed form and
// well-behaved at 0 and at small counts, so "lossy" means "surely above the threshold", never one unlucky packet.

/** Lower bound of the Wilson score interval for lost/sent at the normal quantile z (0 when nothing was sent). */
export function wilsonLowerBound(lost: number, sent: number, z: number): number {
  if (sent <= 0) return 0;
  const rate = lost / sent;
  const z2 = z * z;
  const centre = rate + z2 / (2 * sent);
  const margin = z * Math.sqrt((rate * (1 - rate)) / sent + z2 / (4 * sent * sent));
  return Math.max(0, (centre - margin) / (1 + z2 / sent));
}

/** True when `lost` of `sent` shows, at confidence z, a loss rate above `threshold`. */
export function surelyAbove(lost: number, sent: number, threshold: number, z: number): boolean {
  return wilsonLowerBound(lost, sent, z) > threshold;
}
