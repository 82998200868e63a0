// ECDH-ES key agreement ahead of time, off the event loop. An ECDH-ES JWE costs one ephemeral P-256 key pair and
// one Diffie-Hellman computation (~200 us of CPU together), nearly all of the encryption. A server encrypting on
// its event loop spends that on the request path; this pool has it done in batches by WebCrypto, whose key
// generation and ECDH run as jobs on libuv's thread pool, and hands each agreement out exactly once (an ephemeral key
// is never reused). When the pool is empty, or WebCrypto failed, the agreement is computed on the spot: the pool
// changes where the work runs, never the tokens.
//
// It used a worker thread before: under Jest's in-band integration run the worker sometimes never exited, so that
// worker.terminate() did not settle and process.exit() then blocked for good (main thread and worker each waiting on
// a futex). libuv's pool threads are never terminated, so nothing can hang on shutdown.
import { createECDH, webcrypto, type KeyObject } from 'node:crypto';

type WebCryptoKey = Awaited<ReturnType<typeof webcrypto.subtle.importKey>>;

/** An ephemeral public key (the JWE `epk`) and the raw ECDH shared secret Z it gives with the recipient. */
export interface EcdhAgreement {
  epk: { kty: 'EC'; crv: 'P-256'; x: string; y: string };
  sharedSecret: Buffer;
}

/** The recipient's public point, uncompressed (0x04 || x || y), by KeyObject: exported once per key. */
const recipientPoints = new WeakMap<KeyObject, Buffer>();

function recipientPoint(recipient: KeyObject): Buffer {
  let point = recipientPoints.get(recipient);
  if (!point) {
    const jwk = recipient.export({ format: 'jwk' });
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new Error('ECDH-ES recipient must be a P-256 public key');
    point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    if (point.length !== 65) throw new Error('ECDH-ES recipient must be a P-256 public key');
    recipientPoints.set(recipient, point);
  }
  return point;
}

/**
 * One agreement computed here and now, on the caller's thread: a fresh ephemeral P-256 key per call (never
 * reused), Z = the x coordinate of the shared point (RFC 7518 4.6, as diffieHellman gives it). Through node's
 * ECDH object: its public key comes out as the raw point (x and y are slices of it), where a KeyObject key pair
 * costs a JWK export and key wrapping around the same two scalar multiplications (measured on 2 cores: ~180-220
 * us of CPU per agreement against ~250-300 us, and ~450-500 us for the WebCrypto route of the pool, whose event
 * loop share alone is ~140-180 us).
 */
export function agreeNow(recipient: KeyObject): EcdhAgreement {
  const ecdh = createECDH('prime256v1');
  const pub = ecdh.generateKeys();
  if (pub.length !== 65 || pub[0] !== 4) throw new Error('ephemeral key generation failed');
  const sharedSecret = ecdh.computeSecret(recipientPoint(recipient));
  return { epk: { kty: 'EC', crv: 'P-256', x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33, 65).toString('base64url') }, sharedSecret };
}

/** One agreement by WebCrypto: key generation and ECDH are thread-pool jobs, the event loop only awaits them. */
async function agreeOffLoop(recipient: WebCryptoKey): Promise<EcdhAgreement> {
  const { subtle } = webcrypto;
  const pair = (await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as { publicKey: WebCryptoKey; privateKey: WebCryptoKey };
  const [bits, jwk] = await Promise.all([subtle.deriveBits({ name: 'ECDH', public: recipient }, pair.privateKey, 256), subtle.exportKey('jwk', pair.publicKey)]);
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new Error('ephemeral key export failed');
  return { epk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, sharedSecret: Buffer.from(bits) };
}

export interface AgreementPoolOptions {
  /** Agreements kept ready per recipient key (default 512). */
  size?: number;
  /** Agreements computed at once, as thread-pool jobs (default 32: libuv's pool has 4 threads and serves fs too). */
  batch?: number;
}

/** Ready-made ECDH-ES agreements for P-256 recipient keys, refilled in batches off the event loop. */
export class EcdhAgreementPool {
  readonly #size: number;
  readonly #batch: number;
  /** Ready agreements by recipient (its SPKI, base64: KeyObjects rebuilt for the same key share a queue). */
  readonly #ready = new Map<string, EcdhAgreement[]>();
  readonly #ids = new WeakMap<KeyObject, Buffer>();
  /** Recipients being refilled now. */
  readonly #filling = new Set<string>();
  #closed = false;

  constructor(opts: AgreementPoolOptions = {}) {
    this.#size = opts.size ?? 512;
    this.#batch = Math.min(opts.batch ?? 32, this.#size);
    if (!(this.#size > 0 && this.#batch > 0)) throw new RangeError('EcdhAgreementPool: size and batch must be positive');
  }

  /** An agreement nobody else gets: from the pool when it has one, else computed now. */
  take(recipient: KeyObject): EcdhAgreement {
    const spki = this.#spki(recipient);
    const id = spki.toString('base64');
    const queue = this.#ready.get(id);
    const ready = queue?.pop();
    if (!queue || queue.length < this.#size - this.#batch) this.#refill(id, spki);
    return ready ?? agreeNow(recipient);
  }

  /** Agreements ready for this recipient (for tests and metrics). */
  available(recipient: KeyObject): number {
    return this.#ready.get(this.#spki(recipient).toString('base64'))?.length ?? 0;
  }

  #spki(recipient: KeyObject): Buffer {
    let spki = this.#ids.get(recipient);
    if (!spki) {
      spki = recipient.export({ format: 'der', type: 'spki' });
      this.#ids.set(recipient, spki);
    }
    return spki;
  }

  /** Stops refilling; later takes compute on the spot. Jobs already on the thread pool finish within milliseconds. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#ready.clear();
  }

  #refill(id: string, spki: Buffer): void {
    if (this.#closed || this.#filling.has(id)) return;
    if (!this.#ready.has(id)) {
      // a new recipient (first use, or a rotated key): the agreements for keys no longer asked for go
      if (this.#ready.size >= 4) this.#ready.clear();
      this.#ready.set(id, []);
    }
    this.#filling.add(id);
    void this.#fill(id, spki).finally(() => this.#filling.delete(id));
  }

  async #fill(id: string, spki: Buffer): Promise<void> {
    try {
      const recipient = await webcrypto.subtle.importKey('spki', spki, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
      for (;;) {
        const queue = this.#ready.get(id);
        if (this.#closed || !queue || queue.length >= this.#size) return;
        const batch = await Promise.all(Array.from({ length: Math.min(this.#batch, this.#size - queue.length) }, () => agreeOffLoop(recipient)));
        if (this.#closed) return;
        this.#ready.get(id)?.push(...batch);
      }
    } catch {
      // WebCrypto refused (an unusual key, say): agreements are computed on the spot from now on, as without a pool
      this.#closed = true;
    }
  }
}
