/**
 * Why a token was rejected. Callers put it in logs and metrics; it is never shown to the sender
 * (the message stays generic so a rejection is not an oracle).
 */
export type CryptoErrorReason =
  | 'format' // not a well-formed compact JWS/JWE, bad base64url, bad JSON, duplicate members
  | 'size' // token, header or body over its limit
  | 'header' // forbidden or malformed header parameter (jku, jwk, x5u, x5c, b64, p2c, bad epk, ...)
  | 'alg' // alg/enc not in the allowlist, or not the algorithm of the key named by kid
  | 'crit' // any crit header: no extension is supported
  | 'zip' // compressed JWE
  | 'typ' // typ differs from the one the policy requires
  | 'kid' // missing, malformed or unknown kid, or a key that cannot do this operation
  | 'retired' // the key exists but is retired (or its rotation overlap ran out)
  | 'signature' // signature does not verify
  | 'decrypt' // JWE does not decrypt (key unwrap or authentication tag failed)
  | 'claims' // payload is not what the policy needs (not an object, bad exp/iat/jti types, unbounded lifetime)
  | 'expired' // exp passed (beyond the allowed clock skew)
  | 'not-before' // nbf in the future (beyond the allowed clock skew)
  | 'freshness' // iat missing when required, in the future, or older than maxAgeSeconds
  | 'replay' // jti already seen
  | 'unavailable'; // a dependency (replay store, remote JWKS) failed: fail closed

/** Generic failure given to callers. `reason` is for logs and metrics only. */
export class CryptoError extends Error {
  readonly reason: CryptoErrorReason;

  constructor(reason: CryptoErrorReason, message = 'invalid token') {
    super(message);
    this.name = 'CryptoError';
    this.reason = reason;
  }
}

/**
 * A verdict on the token (it is invalid), as opposed to `unavailable` (a key source or store could not answer):
 * only a verdict may decline, dead-letter or skip what the token carries; `unavailable` must be retried.
 */
export function isTokenVerdict(err: unknown): err is CryptoError {
  return err instanceof CryptoError && err.reason !== 'unavailable';
}

/** Refusal at startup or reload: weak, missing, malformed or mismatched keys. Names the file or variable, never key material. */
export class KeyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyConfigError';
  }
}

/** Optional debug sink (pino-compatible). Receives reasons and key ids, never tokens, payloads or key material. */
export interface CryptoLogger {
  debug(obj: object, msg: string): void;
}
