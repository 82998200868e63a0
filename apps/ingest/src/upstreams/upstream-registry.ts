// Upstreams are registered by dropping `<upstream-id>.json` into UPSTREAMS_DIR (a ConfigMap or Secret in
// Kubernetes): { "upstream_id": "psp-alpha", "jwks": { "keys": [...] }, "algorithms": ["ES256"],
//   "merchants": ["m-coffee-berlin"], "limits": { "requests_per_second": 200, "burst": 400 } } (registration.ts).
// The directory is re-read on change (and every 30 s), so registering or revoking needs no restart.
import { FSWatcher, watch } from 'node:fs';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { SIGNED_PAYMENT_JWS_TYPE, SIGNED_REQUEST_JWS_TYPE } from '@payrail/contracts';
import { JwsVerifier, PayrailKeyStore, SigningAlg } from '@payrail/crypto';
import { INGEST_CONFIG, IngestConfig, RateLimit } from '../config';
import { readRegistrationFiles, resolveRegistrations } from './registration';

/** Tolerated difference between the upstream's clock and ours (iat in the future, or older than the window). */
export const SUBMISSION_CLOCK_SKEW_S = 30;

export interface Upstream {
  id: string;
  algorithms: SigningAlg[];
  rateLimit: RateLimit;
  /** The merchants this upstream may pay. */
  merchants: ReadonlySet<string>;
  /** Verifies submitted payments: the upstream's keys and algorithms, `iat` within the freshness window. */
  submissions: JwsVerifier;
  /** Verifies signed read requests (GET): `iat` within 60 s. */
  requests: JwsVerifier;
}

@Injectable()
export class UpstreamRegistry implements OnModuleInit, OnApplicationShutdown {
  private byKid = new Map<string, Upstream>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('upstreams');
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    try {
      this.watcher = watch(this.config.upstreamsDir, () => this.scheduleReload());
    } catch {
      this.logger.warn({ dir: this.config.upstreamsDir }, 'cannot watch upstreams directory; re-reading every 30 s');
    }
    this.timer = setInterval(() => this.scheduleReload(), 30_000);
    this.timer.unref();
  }

  private scheduleReload(): void {
    this.reloading = this.reloading.then(() => this.reload()).catch((err: Error) => this.logger.error({ err: err.message }, 'upstream reload failed'));
  }

  /**
   * Rebuilds the kid index. A bad registration is refused (and logged), the others keep working; a kid another
   * upstream already holds stays with it (the config check at boot refuses to start on any of these).
   */
  async reload(): Promise<void> {
    let set;
    try {
      const incumbents = new Map([...this.byKid].map(([kid, upstream]) => [kid, upstream.id]));
      set = resolveRegistrations(readRegistrationFiles(this.config.upstreamsDir), incumbents);
    } catch (err) {
      this.logger.error({ dir: this.config.upstreamsDir, err: (err as Error).message }, 'cannot read upstreams directory');
      return;
    }
    for (const problem of set.problems) this.logger.error(problem, 'upstream registration refused');
    const next = new Map<string, Upstream>();
    for (const registration of set.registrations.values()) {
      try {
        const keys = await PayrailKeyStore.fromJwks(registration.jwks);
        const algorithms = registration.algorithms;
        const limits = registration.limits;
        // verifiers are built once per (re)load, never per request; signatures are checked on the threadpool
        const upstream: Upstream = {
          id: registration.upstream_id,
          algorithms,
          rateLimit: limits ? { perSecond: limits.requests_per_second, burst: limits.burst } : this.config.defaultRateLimit,
          merchants: new Set(registration.merchants),
          // typ required: a payment token is never a read token and vice versa, and a token without typ is refused
          submissions: new JwsVerifier(keys, { algorithms, typ: SIGNED_PAYMENT_JWS_TYPE, requireIat: true, maxAgeSeconds: this.config.freshnessWindowS, clockSkewSeconds: SUBMISSION_CLOCK_SKEW_S, offload: true }),
          requests: new JwsVerifier(keys, { algorithms, typ: SIGNED_REQUEST_JWS_TYPE, requireIat: true, maxAgeSeconds: 60, clockSkewSeconds: SUBMISSION_CLOCK_SKEW_S, offload: true }),
        };
        for (const jwk of registration.jwks.keys) next.set(jwk.kid, upstream);
      } catch (err) {
        this.logger.error({ file: `${registration.upstream_id}.json`, err: (err as Error).message }, 'upstream registration refused');
      }
    }
    this.byKid = next;
    this.logger.info({ upstreams: new Set([...next.values()].map((u) => u.id)).size, keys: next.size }, 'upstream registry loaded');
  }

  /** The upstream whose registered key the token names in its `kid` (not yet verified: the verifiers do that). */
  forToken(jws: string): Upstream | undefined {
    const kid = unverifiedKid(jws);
    return kid === undefined ? undefined : this.byKid.get(kid);
  }

  onApplicationShutdown(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
  }
}

/** The kid from the protected header, only to find which upstream's keys to verify with. */
function unverifiedKid(jws: string): string | undefined {
  const kid = unverifiedHeader(jws)?.['kid'];
  return typeof kid === 'string' && kid.length <= 256 ? kid : undefined;
}

/** The protected header of a compact or detached JWS, unverified: for routing and for wording a refusal only. */
export function unverifiedHeader(jws: string): Record<string, unknown> | undefined {
  const dot = jws.indexOf('.');
  if (dot <= 0 || dot > 4096) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(jws.slice(0, dot), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header) ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Why a token's typ was refused, for the problem's detail: the policy requires `expected`. */
export function typRefusal(jws: string, expected: string): string {
  return unverifiedHeader(jws)?.['typ'] === undefined ? `the protected header has no typ: it must be ${expected}` : `typ must be ${expected}`;
}
