// How Payrail's own services (fraud-check, settlement) verify Payrail's signatures: keys from the signing
// service's published JWKS (remote client: configured URL only, cached, rate-limited refresh) or from a mounted
// copy (reloaded on change), with Payrail's algorithm allowlist. Never keys carried by a token.
import { JwsVerifier } from './jws/verifier';
import { RemoteJwksClient } from './jws/remote-jwks';
import { ReloadingKeyStore } from './keys/reloading-keystore';
import type { SigningAlg } from './lib/algorithms';

export const PAYRAIL_SIGNING_ALGS: SigningAlg[] = ['ES256', 'EdDSA', 'PS256'];

export interface PayrailVerifierHandle {
  verifier: JwsVerifier;
  /**
   * Fetches the keys now (a JWKS URL; a file is read at open), rejecting when they cannot be had: for a one-shot
   * command that must not mistake an unreachable JWKS for signatures that do not verify.
   */
  ready(): Promise<void>;
  close(): void;
}

/**
 * `allowInsecureClusterHttp`: see RemoteJwksOptions (the services pass SIGNING_JWKS_ALLOW_HTTP). `types`: the typ
 * headers of the tokens this verifier accepts (the contracts' *_JWS_TYPE; signing always sets one): a token of
 * another kind is refused even when Payrail's key signed it. A token without typ still passes for now: the test
 * fixtures of fraud-check and settlement sign untyped instructions (making typ required is the next step).
 */
export async function openPayrailVerifier(source: { url: string; allowInsecureClusterHttp?: boolean } | { file: string }, types: readonly string[]): Promise<PayrailVerifierHandle> {
  const policy = { algorithms: PAYRAIL_SIGNING_ALGS, typ: types, typRequired: false };
  if ('url' in source) {
    const client = new RemoteJwksClient({ url: source.url, allowInsecureClusterHttp: source.allowInsecureClusterHttp });
    return { verifier: new JwsVerifier(client, policy), ready: () => client.refresh(), close: () => undefined };
  }
  const store = await ReloadingKeyStore.watch(source.file);
  return { verifier: new JwsVerifier(store, policy), ready: () => Promise.resolve(), close: () => store.close() };
}
