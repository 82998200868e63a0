// Micro-benchmark of event seals (libs/crypto event-seal.ts): what one hand-off costs, sealing at the producer and
// verifying at the consumer, on realistic events (a screened decision carrying its ~1 KB signed instruction, an
// accepted payment with its ~400-byte card JWE), for the default Ed25519 sealing key and for ES256.
// Usage: SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/bench/seal-bench.ts [--ms N]
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSealVerifier, EventSealer, PayrailKeyStore, writeDevKeys } from '../../libs/crypto/src';

const b64u = (n: number) => randomBytes(n).toString('base64url');

function accepted(i: number): Record<string, unknown> {
  return {
    payment_id: randomUUID(),
    upstream_id: 'psp-alpha',
    upstream_reference: `order-${i}`,
    accepted_at: new Date().toISOString(),
    amount: { minor: String(100 + i), currency: 'EUR' },
    payer: { type: 'card', fingerprint: b64u(32), masked: '411111******1111', bin: '411111', country: 'DE', expiry: '2029-09', protected_jwe: `${b64u(190)}.${b64u(40)}.${b64u(12)}.${b64u(24)}.${b64u(16)}` },
    payee: { merchant_id: `m-${i % 50}`, mcc: '5411', country: 'DE' },
    context: { ip: '10.0.0.1', country: 'DE' },
    upstream_verification: { kid: 'psp-alpha-2026', alg: 'ES256', jti: randomUUID(), iat: 1_765_000_000 },
  };
}

function screened(i: number): Record<string, unknown> {
  return {
    payment_id: randomUUID(),
    merchant_id: `m-${i % 50}`,
    amount: { minor: String(100 + i), currency: 'EUR' },
    decision: 'APPROVE',
    score: 10,
    reasons: [{ rule: 'velocity.card', score: 10, observed: { count: 3 } }],
    ruleset_version: '2026-12-01.1',
    screened_at: new Date().toISOString(),
    instruction_jws: `${b64u(90)}.${b64u(900)}.${b64u(64)}`,
  };
}

function perOp(ms: number, op: (i: number) => unknown): number {
  for (let i = 0; i < 200; i++) op(i); // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms) * 1_000_000n;
  while (process.hrtime.bigint() < until) for (let k = 0; k < 50; k++) op(n++);
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

async function perOpAsync(ms: number, op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await op(i);
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms) * 1_000_000n;
  while (process.hrtime.bigint() < until) for (let k = 0; k < 50; k++) await op(n++);
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

async function main(): Promise<void> {
  const msArg = process.argv.indexOf('--ms');
  const ms = msArg > 0 ? Number(process.argv[msArg + 1]) : 2_000;
  const dir = mkdtempSync(join(tmpdir(), 'payrail-seal-bench-'));
  try {
    const rows: Record<string, string | number>[] = [];
    for (const alg of ['EdDSA', 'ES256'] as const) {
      const keys = await writeDevKeys(join(dir, alg), { alg, withEncryptionKey: false });
      const typ = 'payrail-decision-seal+jws';
      const sealer = new EventSealer(await PayrailKeyStore.fromFile(keys.privatePath), typ);
      const verifier = new EventSealVerifier(await PayrailKeyStore.fromFile(keys.publicPath), typ);
      for (const [kind, make] of [['screened', screened], ['accepted', accepted]] as const) {
        const events = Array.from({ length: 256 }, (_, i) => make(i));
        const sealed = events.map((e) => sealer.seal(e));
        const sealUs = perOp(ms, (i) => sealer.seal(events[i % 256] ?? {}));
        const verifyUs = await perOpAsync(ms, async (i) => {
          const check = await verifier.check(sealed[i % 256] ?? {});
          if (!check.ok) throw new Error('seal did not verify');
        });
        rows.push({ alg, event: kind, bytes: JSON.stringify(sealed[0]).length, seal_us: Math.round(sealUs * 10) / 10, verify_us: Math.round(verifyUs * 10) / 10, per_hand_off_us: Math.round((sealUs + verifyUs) * 10) / 10 });
      }
    }
    console.table(rows);
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
