/**
 * Kubernetes resource quantities ("500m", "4Gi", "2"), parsed only far enough to compare
 * two of them, so the config can refuse a request that exceeds its own limit.
 */

const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)([numkMGTPE]|[KMGTPE]i)?$/;

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** True for a non-negative quantity in Kubernetes' notation (without exponent forms). */
export function isQuantity(value: string): boolean {
  return QUANTITY.test(value);
}

/** The quantity's value in base units (cores, bytes); throws on a malformed quantity. */
export function quantityValue(value: string): number {
  const match = QUANTITY.exec(value);
  if (!match) {
    throw new Error(`not a Kubernetes quantity: ${JSON.stringify(value)}`);
  }
  return Number(match[1]) * (SUFFIX[match[2] ?? ""] ?? 1);
}
