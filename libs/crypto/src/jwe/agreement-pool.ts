// ECDH-ES key agreement ahead of time on a worker thread. An ECDH-ES JWE costs one ephemeral P-256 key pair and
// one Diffie-Hellman computation (~200 us of CPU together), nearly all of the encryption. A server encrypting on
// its event loop spends that on the request path; this pool does it on another core, in batches, and hands each
// agreement out exactly once (an ephemeral key is never reused). When the pool is empty, or the worker failed, the
// agreement is computed on the spot: the pool changes where the work runs, never the tokens.
import { diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** An ephemeral public key (the JWE `epk`) and the raw ECDH shared secret Z it gives with the recipient. */
export interface EcdhAgreement {
  epk: { kty: 'EC'; crv: 'P-256'; x: string; y: string };
  sharedSecret: Buffer;
}

interface Batch {
  spki: Buffer;
  count: number;
}

// The worker is plain CommonJS on node:crypto only (it must run inside a bundle, where our modules are not files).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, diffieHellman, generateKeyPairSync } = require('node:crypto');
parentPort.on('message', ({ spki, count }) => {
  const recipient = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const points = [];
  const secrets = Buffer.alloc(count * 32);
  for (let i = 0; i < count; i++) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = pair.publicKey.export({ format: 'jwk' });
    points.push([jwk.x, jwk.y]);
    diffieHellman({ privateKey: pair.privateKey, publicKey: recipient }).copy(secrets, i * 32);
  }
  parentPort.postMessage({ points, secrets: secrets.buffer }, [secrets.buffer]);
});
`;

/** One agreement computed here and now (the fallback, and what the worker does in batches). */
export function agreeNow(recipient: KeyObject): EcdhAgreement {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = pair.publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new Error('ephemeral key export failed');
  return { epk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, sharedSecret: diffieHellman({ privateKey: pair.privateKey, publicKey: recipient }) };
}

export interface AgreementPoolOptions {
  /** Agreements kept ready per recipient key (default 512). */
  size?: number;
  /** Agreements computed per request to the worker (default 128). */
  batch?: number;
}

/** Ready-made ECDH-ES agreements for P-256 recipient keys, refilled by one worker thread. */
export class EcdhAgreementPool {
  readonly #size: number;
  readonly #batch: number;
  /** Ready agreements by recipient (its SPKI, base64: KeyObjects rebuilt for the same key share a queue). */
  readonly #ready = new Map<string, EcdhAgreement[]>();
  readonly #ids = new WeakMap<KeyObject, Buffer>();
  #worker: Worker | undefined;
  #failed = false;
  #pending: { id: string; batch: Batch } | undefined;
  readonly #wanted: Batch[] = [];

  constructor(opts: AgreementPoolOptions = {}) {
    this.#size = opts.size ?? 512;
    this.#batch = Math.min(opts.batch ?? 128, this.#size);
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

  /**
   * Stops the worker; later takes compute on the spot. Waits at most `graceMs` for it to exit: a terminate() whose
   * promise never settled was seen to hold a service's shutdown (and an integration test's clean-up) for minutes,
   * and the worker is unref'd, so it cannot keep the process alive once we stop waiting.
   */
  async close(graceMs = 2_000): Promise<void> {
    this.#failed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready.clear();
    if (!worker) return;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    await Promise.race([worker.terminate().then(() => undefined, () => undefined), gaveUp]);
    clearTimeout(timer);
  }

  #refill(id: string, spki: Buffer): void {
    if (this.#failed) return;
    if (!this.#ready.has(id)) {
      // a new recipient (first use, or a rotated key): the agreements for keys no longer asked for go
      if (this.#ready.size >= 4) this.#ready.clear();
      this.#ready.set(id, []);
    }
    if (this.#pending) {
      if (this.#pending.id !== id && !this.#wanted.some((w) => w.spki.equals(spki))) this.#wanted.push({ spki, count: this.#batch });
      return;
    }
    const worker = this.#startWorker();
    if (!worker) return;
    const batch: Batch = { spki, count: this.#batch };
    this.#pending = { id, batch };
    worker.postMessage(batch);
  }

  #startWorker(): Worker | undefined {
    if (this.#worker) return this.#worker;
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref(); // never keeps a process alive
      worker.on('message', (msg: { points: [string, string][]; secrets: ArrayBuffer }) => this.#onBatch(msg));
      worker.on('error', () => this.#fail());
      worker.on('exit', () => {
        if (this.#worker === worker) this.#fail();
      });
      this.#worker = worker;
      return worker;
    } catch {
      this.#fail();
      return undefined;
    }
  }

  #onBatch(msg: { points: [string, string][]; secrets: ArrayBuffer }): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending) return;
    const queue = this.#ready.get(pending.id);
    if (queue) {
      const secrets = Buffer.from(msg.secrets);
      msg.points.forEach(([x, y], i) => {
        queue.push({ epk: { kty: 'EC', crv: 'P-256', x, y }, sharedSecret: secrets.subarray(i * 32, i * 32 + 32) });
      });
    }
    const next = queue && queue.length < this.#size - this.#batch ? pending.batch.spki : this.#wanted.shift()?.spki;
    if (next) this.#refill(next.toString('base64'), next);
  }

  #fail(): void {
    this.#failed = true;
    this.#worker = undefined;
    this.#pending = undefined;
  }
}
