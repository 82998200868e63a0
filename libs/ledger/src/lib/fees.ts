import { mulDivRound } from '@payrail/contracts';

/**
 * Fee in minor units: amount x bps / 10,000 rounded half away from zero, plus the fixed part, never more than
 * the amount itself (the merchant's net is never negative). Integer arithmetic only.
 */
export function computeFee(amountMinor: bigint, bps: number, fixedMinor: number): bigint {
  const fee = mulDivRound(amountMinor, BigInt(bps), 10_000n) + BigInt(fixedMinor);
  return fee > amountMinor ? amountMinor : fee;
}
