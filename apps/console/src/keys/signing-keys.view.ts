// Payrail's signing keys as operators need to see them: what signing publishes (its JWKS, validated by the crypto
// library) joined with what the console sees in use on the topics. The public JWKS does not say which key is
// active, so the state is derived: the published key that signed the latest payment instruction is `active`,
// other published keys are `verify-only`, and a key still seen in use but no longer published is `retired`.
import { PayrailKeyStore, jwkThumbprint } from '@payrail/crypto';
import type { KeyUseView } from '../flow/flow-statistics';

export type KeyStateView = 'active' | 'verify-only' | 'retired' | 'published';

export interface KeyView {
  readonly kid: string;
  readonly state: KeyStateView;
  readonly published: boolean;
  /** sig or enc, as published. */
  readonly use?: string;
  readonly alg?: string;
  readonly kty?: string;
  readonly crv?: string;
  /** RFC 7638 thumbprint, to compare with the key file without showing key material. */
  readonly thumbprint?: string;
  readonly signs: string[];
  readonly last_used?: string;
  readonly uses: number;
}

export interface KeysView {
  readonly source?: string;
  readonly fetched_at?: string;
  readonly error?: string;
  readonly keys: KeyView[];
}

interface PublishedKey {
  kid: string;
  use?: string;
  alg?: string;
  kty?: string;
  crv?: string;
  thumbprint?: string;
}

const MAX_JWKS_BYTES = 256 * 1024;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

function carriesPrivateMembers(text: string): boolean {
  const parsed: unknown = JSON.parse(text);
  const keys = typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { keys?: unknown }).keys) ? (parsed as { keys: unknown[] }).keys : [];
  return keys.some((k) => typeof k === 'object' && k !== null && PRIVATE_MEMBERS.some((m) => m in k));
}

export class SigningKeysView {
  private published: PublishedKey[] = [];
  private fetchedAt: string | undefined;
  private error: string | undefined;

  constructor(
    private readonly jwksUrl: string | undefined,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async refresh(): Promise<void> {
    if (!this.jwksUrl) return;
    try {
      const res = await this.fetchImpl(this.jwksUrl, { redirect: 'error', signal: AbortSignal.timeout(3_000), headers: { accept: 'application/jwk-set+json, application/json' } });
      if (res.status !== 200) throw new Error(`answered ${res.status}`);
      const text = await res.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS too large');
      if (carriesPrivateMembers(text)) throw new Error('the published JWKS carries private key material: rotate those keys');
      // the crypto library refuses malformed or weak keys
      const store = await PayrailKeyStore.fromJwks(text);
      this.published = store.publicJwks().keys.map((jwk) => ({
        kid: String(jwk['kid']),
        use: typeof jwk['use'] === 'string' ? jwk['use'] : undefined,
        alg: typeof jwk['alg'] === 'string' ? jwk['alg'] : undefined,
        kty: typeof jwk['kty'] === 'string' ? jwk['kty'] : undefined,
        crv: typeof jwk['crv'] === 'string' ? jwk['crv'] : undefined,
        thumbprint: jwkThumbprint(jwk),
      }));
      this.fetchedAt = new Date().toISOString();
      this.error = undefined;
    } catch (err) {
      this.error = `JWKS unavailable: ${(err as Error).message}`;
      throw err;
    }
  }

  view(inUse: readonly KeyUseView[]): KeysView {
    const latestInstructionKid = inUse.filter((u) => u.signs === 'payment instructions').sort((a, b) => b.last_seen.localeCompare(a.last_seen))[0]?.kid;
    const usage = (kid: string) => inUse.filter((u) => u.kid === kid);
    const lastUsed = (kid: string) => usage(kid).reduce<string | undefined>((latest, u) => (latest === undefined || u.last_seen > latest ? u.last_seen : latest), undefined);
    const keys: KeyView[] = this.published.map((k) => ({
      ...k,
      published: true,
      // only signing keys take turns being active; an encryption key in the set is just published
      state: k.use === 'enc' || latestInstructionKid === undefined ? 'published' : k.kid === latestInstructionKid ? 'active' : 'verify-only',
      signs: usage(k.kid).map((u) => u.signs),
      last_used: lastUsed(k.kid),
      uses: usage(k.kid).reduce((n, u) => n + u.count, 0),
    }));
    const publishedKids = new Set(this.published.map((k) => k.kid));
    // before the first fetch, nothing can be called retired
    if (this.fetchedAt !== undefined) {
      for (const kid of new Set(inUse.map((u) => u.kid))) {
        if (publishedKids.has(kid)) continue;
        keys.push({ kid, state: 'retired', published: false, signs: usage(kid).map((u) => u.signs), last_used: lastUsed(kid), uses: usage(kid).reduce((n, u) => n + u.count, 0) });
      }
    }
    return { source: this.jwksUrl, fetched_at: this.fetchedAt, error: this.error, keys };
  }
}
