import { isKeyWrapAlg } from '../lib/algorithms';
import { KeyConfigError, type CryptoLogger } from '../lib/errors';
import { isPlainObject, parseStrictJson } from '../lib/json';
import type { KeyRecord } from '../keys/key-record';
import { KEY_CLOCK, RESOLVE_KEY, type KeyResolver } from '../keys/internal';
import { PayrailKeyStore } from '../keys/keystore';
import { MAX_KEYS, type KeyEntry } from '../keys/sources';

export interface RemoteJwksOptions {
  /**
   * The JWKS URL. https only; plain http is accepted for loopback (localhost, 127.0.0.1, [::1]: tests and
   * sidecars) and, with allowInsecureClusterHttp, for a cluster-internal name. Never taken from a token.
   */
  url: string;
  /**
   * Also accept plain http to a cluster-internal name: a single-label DNS name (a compose service, a Kubernetes
   * Service in the same namespace) or a name ending in `.svc` or containing `.svc.` (`name.namespace.svc[.cluster
   * domain]`). IP literals other than loopback and any other name stay refused. For public keys only, on a network
   * where something else (a NetworkPolicy) limits who can answer on that name. Default false.
   */
  allowInsecureClusterHttp?: boolean;
  /** Per request, default 3 s (AbortSignal.timeout). */
  timeoutMs?: number;
  /** At most one refresh per interval, triggered by unknown kids or staleness; default 30 s. */
  minRefreshIntervalMs?: number;
  /** Known keys are refreshed in the background after this age (so revocations propagate); default 10 min. */
  maxAgeMs?: number;
  /** Response size cap, default 256 KiB. */
  maxResponseBytes?: number;
  fetchImpl?: typeof fetch;
  logger?: CryptoLogger;
  /** Clock in ms, for tests. */
  now?: () => number;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An RFC 1123 DNS label, as WHATWG URL leaves a host (lower case, IDNs as punycode). */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** What WHATWG URL makes of any IPv4 form (127.1, 0x7f.1, 2130706433): the dotted quad. IPv6 keeps its brackets. */
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** How a JWKS URL is reached (`transport`), or why RemoteJwksClient refuses it (`optInWouldAllow`: plain http to a cluster-internal name). */
export type JwksUrlCheck =
  | { ok: true; origin: string; transport: 'https' | 'loopback-http' | 'cluster-http' }
  | { ok: false; reason: string; optInWouldAllow: boolean };

/**
 * A single-label DNS name (a compose service, a Service of the pod's own namespace) or a Kubernetes Service's
 * name exactly: `service.namespace.svc`, or that followed by the cluster domain `cluster.local`. A name that merely
 * contains `svc` (`jwks.svc.example.com`, `x.svc`, `...svc.cluster.local.attacker.net`) is a public name.
 */
export function isClusterInternalHost(hostname: string): boolean {
  if (hostname.startsWith('[') || IPV4.test(hostname)) return false; // IP literals
  const labels = hostname.split('.');
  if (!labels.every((l) => DNS_LABEL.test(l))) return false; // also refuses a trailing dot ("signing." is a TLD)
  if (labels.length === 1) return true;
  const [service, namespace, svc, ...domain] = labels;
  return service !== undefined && namespace !== undefined && svc === 'svc' && (domain.length === 0 || domain.join('.') === 'cluster.local');
}

/**
 * The rule RemoteJwksClient applies to its URL, as a pure function: configuration loaders call it at boot so a
 * refused URL stops the process as a configuration error, before anything connects.
 * https: always; http: to loopback, or with allowInsecureClusterHttp to a cluster-internal name
 * (isClusterInternalHost); never credentials in the URL, never another scheme.
 */
export function checkJwksUrl(raw: string, opts: { allowInsecureClusterHttp?: boolean } = {}): JwksUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'url is not a valid URL', optInWouldAllow: false };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'url must not carry credentials', optInWouldAllow: false };
  if (url.protocol === 'https:') return { ok: true, origin: url.origin, transport: 'https' };
  if (url.protocol !== 'http:') return { ok: false, reason: `${url.protocol} URLs are refused: use https`, optInWouldAllow: false };
  if (LOCAL_HOSTS.has(url.hostname)) return { ok: true, origin: url.origin, transport: 'loopback-http' };
  if (!isClusterInternalHost(url.hostname)) {
    const what = url.hostname.startsWith('[') || IPV4.test(url.hostname) ? 'an IP address other than loopback' : 'a name that is not cluster-internal (a single label, service.namespace.svc or service.namespace.svc.cluster.local)';
    return { ok: false, reason: `${url.origin} must use https: plain http to ${what} is refused`, optInWouldAllow: false };
  }
  if (opts.allowInsecureClusterHttp !== true) {
    return { ok: false, reason: `${url.origin} must use https: plain http to a cluster-internal name needs an explicit opt-in`, optInWouldAllow: true };
  }
  return { ok: true, origin: url.origin, transport: 'cluster-http' };
}

async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) throw new Error('JWKS response too large');
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new Error('JWKS response too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Verification keys of another service, fetched from its configured JWKS URL: cached, refreshed at most once
 * per minRefreshIntervalMs when an unknown kid shows up (so a flood of bogus kids cannot turn into a flood of
 * requests), redirects refused, size and time bounded. A failed refresh keeps the keys we have.
 *
 * An unknown kid is a verdict ("kid": no such key) only against a key set that was fetched successfully and after
 * the last failed attempt. While the endpoint cannot be read (never fetched yet, or the last attempt failed, e.g. a
 * verifier restarting on a busy machine), resolving an unknown kid throws, so verification fails as `unavailable`
 * (retried by the caller), never as a forgery: otherwise every event signed with the current key would be judged
 * forged until the next refresh.
 */
export class RemoteJwksClient implements KeyResolver {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #minInterval: number;
  readonly #maxAge: number;
  readonly #maxBytes: number;
  readonly #fetch: typeof fetch;
  readonly #log: CryptoLogger | undefined;
  readonly #now: () => number;
  #store: PayrailKeyStore | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #lastAttemptFailed = false;
  #inflight: Promise<void> | undefined;

  constructor(opts: RemoteJwksOptions) {
    const check = checkJwksUrl(opts.url, { allowInsecureClusterHttp: opts.allowInsecureClusterHttp });
    if (!check.ok) throw new KeyConfigError(`RemoteJwksClient: ${check.reason}${check.optInWouldAllow ? ' (allowInsecureClusterHttp)' : ''}`);
    const pos = (name: string, v: number | undefined, d: number): number => {
      if (v === undefined) return d;
      if (!Number.isFinite(v) || v < 0) throw new KeyConfigError(`RemoteJwksClient: ${name} must be a non-negative number`);
      return v;
    };
    this.#url = new URL(opts.url).href;
    this.#timeoutMs = pos('timeoutMs', opts.timeoutMs, 3000);
    this.#minInterval = pos('minRefreshIntervalMs', opts.minRefreshIntervalMs, 30_000);
    this.#maxAge = pos('maxAgeMs', opts.maxAgeMs, 600_000);
    this.#maxBytes = pos('maxResponseBytes', opts.maxResponseBytes, 256 * 1024);
    this.#fetch = opts.fetchImpl ?? fetch;
    this.#log = opts.logger;
    this.#now = opts.now ?? Date.now;
  }

  /** Fetches now, ignoring the rate limit (e.g. at startup). Rejects on failure; cached keys stay. */
  refresh(): Promise<void> {
    return this.#shared();
  }

  /** The keys fetched last, if any. */
  keys(): PayrailKeyStore | undefined {
    return this.#store;
  }

  /** @internal */
  [KEY_CLOCK](): number {
    return this.#now();
  }

  /** @internal */
  [RESOLVE_KEY](kid: string): KeyRecord | undefined | Promise<KeyRecord | undefined> {
    const now = this.#now();
    const known = this.#store?.[RESOLVE_KEY](kid);
    const mayRefresh = this.#inflight !== undefined || now - this.#lastAttempt >= this.#minInterval;
    if (known !== undefined) {
      if (now - this.#fetchedAt > this.#maxAge && mayRefresh) this.#shared().catch(() => undefined); // background
      return known;
    }
    if (!mayRefresh) {
      if (this.#store === undefined || this.#lastAttemptFailed) throw new Error(`JWKS ${this.#url} unavailable: its last fetch failed`);
      return undefined;
    }
    return this.#shared().then(
      () => this.#store?.[RESOLVE_KEY](kid),
      (err: unknown) => {
        throw new Error(`JWKS ${this.#url} unavailable: ${err instanceof Error ? err.message : 'fetch failed'}`);
      },
    );
  }

  #shared(): Promise<void> {
    if (this.#inflight) return this.#inflight;
    this.#lastAttempt = this.#now();
    const p = this.#load().finally(() => {
      this.#inflight = undefined;
    });
    this.#inflight = p;
    return p;
  }

  async #load(): Promise<void> {
    try {
      const res = await this.#fetch(this.#url, {
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'error',
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        throw new Error(`JWKS endpoint answered ${res.status}`);
      }
      const doc = parseStrictJson(await readCapped(res, this.#maxBytes));
      if (!isPlainObject(doc) || !Array.isArray(doc['keys'])) throw new Error('JWKS response is not a JWK set');
      if (doc['keys'].length > MAX_KEYS) throw new Error('JWKS response has too many keys');
      const entries: KeyEntry[] = [];
      doc['keys'].forEach((jwk: unknown, i: number) => {
        // encryption keys are not for verifying: skip them rather than let them fail the set
        if (isPlainObject(jwk) && (jwk['use'] === 'enc' || isKeyWrapAlg(jwk['alg']))) return;
        entries.push({ jwk, where: `JWKS ${this.#url}, key #${i + 1}`, overrides: {} });
      });
      const store = await PayrailKeyStore.assemble(entries, {
        publicOnly: true,
        now: this.#now,
        skipInvalid: (where, err) => this.#log?.debug({ event: 'payrail.jwks.key_skipped', where, detail: err.message }, 'JWKS key skipped'),
      });
      this.#store = store;
      this.#fetchedAt = this.#now();
      this.#lastAttemptFailed = false;
      this.#log?.debug({ event: 'payrail.jwks.refreshed', url: this.#url, keys: store.size() }, 'JWKS refreshed');
    } catch (e) {
      this.#lastAttemptFailed = true;
      const detail = e instanceof Error ? (e.name === 'TimeoutError' ? 'timeout' : e.message) : 'error';
      this.#log?.debug({ event: 'payrail.jwks.refresh_failed', url: this.#url, detail }, 'JWKS refresh failed');
      throw e instanceof Error ? e : new Error(detail);
    }
  }
}
