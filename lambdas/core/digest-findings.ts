/**
 * What verifying a digest chain and the data it seals finds (digest-verify.ts, digest-verify-data.ts):
 * problems fail `verify`, informational findings do not.
 */

export const FindingKind = {
  Added: 'added',
  Removed: 'removed',
  Changed: 'changed',
  MissingDigest: 'missing-digest',
  ReorderedDigest: 'reordered-digest',
  UnsignedDigest: 'unsigned-digest',
  BadSignature: 'bad-signature',
  InvalidDigest: 'invalid-digest',
  /** Data of a day that a run must have sealed by now (see `lastDayDueSealed`) that no digest covers. */
  UnsealedData: 'unsealed-data',
  /** Informational: data of days the chain does not seal yet, or of a day whose digest is missing. */
  NotYetSealed: 'not-yet-sealed',
  NotCovered: 'not-covered',
} as const;
export type FindingKind = (typeof FindingKind)[keyof typeof FindingKind];

const INFORMATIONAL: ReadonlySet<FindingKind> = new Set([FindingKind.NotYetSealed, FindingKind.NotCovered]);

export interface Finding {
  kind: FindingKind;
  /** Problems fail `verify`; informational findings do not. */
  problem: boolean;
  day?: string;
  key?: string;
  sequence?: number;
  message: string;
}

export function finding(
  kind: FindingKind,
  message: string,
  where: Omit<Finding, 'kind' | 'problem' | 'message'> = {},
): Finding {
  return { kind, problem: !INFORMATIONAL.has(kind), ...where, message };
}
