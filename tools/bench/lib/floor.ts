// The floor: what the work a payment cannot avoid costs on this machine, each operation timed raw in the same run.
// Compared with what the pipeline actually spends per payment (CPU of every process over the maximum-rate window,
// divided by the payments that became final in it), it says how much of that CPU is overhead (issue 19).
//
// The unavoidable work of one payment (PAYMENT_WORK):
//   3 ES256 verifications  ingest (the upstream's JWS), fraud-check and settlement (Payrail's instruction)
//   1 ES256 signature      signing (Payrail's instruction)
//   1 ECDH-ES+A256KW JWE   ingest's payer protection: the card number, A256GCM
//   4 Kafka hops           accepted, signed, screened, settled: produce + consume
//   5 Redis scripts        ingest's admission (rate limit, Idempotency-Key, jti), fraud-check's velocity (payer, IP
//                          and device: every payment of the bench carries all three), settlement's posting
//   3 Redis commands       ingest's idempotency result, fraud-check's blocklist lookup and its decision (SET NX)
// Not in it: event seals, the status read model, JSON and schema work, logging, metrics: that is what the gap is.
//
// Each figure is CPU time (user + system), never wall time: process.cpuUsage() for what runs in this process (all its
// threads), /proc/<pid>/stat for the broker and redis-server. Crypto as the services do it, on node:crypto (libs/crypto:
// JWS sign/verify are node:crypto with IEEE P1363 signatures; the JWE is its native ECDH-ES, here with the agreement
// computed on the spot, where ingest has it prepared on libuv's thread pool: the same work on another thread). The
// Kafka hop is the raw kafkajs baseline (raw-kafka.ts): its client CPU on both sides plus the broker's, per message.
// Redis calls pipelined by 100, client CPU (ioredis) plus the server's.
//
//   npm run bench:floor -- --json FILE [--quick]     (alone: starts its own broker and Redis, no services)
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { Redis } from 'ioredis';
import { JweEncrypter, PROTECTED_FIELD_HEADER, PayrailKeyStore, canonicalJson, generateDevKeys } from '@payrail/crypto';
import { demoPayment, prng } from '@payrail/upstream-sdk';
import { round, sampleProcess } from './measure';
import type { RawHopResult } from './raw-kafka';

/** CPU spent on `ops` operations of one kind. */
export interface RawCost {
  ops: number;
  cpuSeconds: number;
}

export type FloorItemName = 'es256_verify' | 'es256_sign' | 'jwe_card' | 'kafka_hop' | 'redis_script' | 'redis_command';

/** How many of each operation one payment needs (the header of this file says where each happens). */
export const PAYMENT_WORK: Readonly<Record<FloorItemName, { opsPerPayment: number; what: string }>> = {
  es256_verify: { opsPerPayment: 3, what: "ES256 verify, node:crypto: ingest (upstream's JWS), fraud-check and settlement (Payrail's instruction)" },
  es256_sign: { opsPerPayment: 1, what: "ES256 sign, node:crypto: signing (Payrail's instruction)" },
  jwe_card: { opsPerPayment: 1, what: 'ECDH-ES+A256KW / A256GCM JWE of the card number (ingest payer protection), native node:crypto' },
  kafka_hop: { opsPerPayment: 4, what: 'raw kafkajs hop (accepted, signed, screened, settled): producer + consumer client CPU, plus the broker' },
  redis_script: { opsPerPayment: 5, what: 'Lua script (marker GET, 3 INCRBY, SADD, SET), pipelined by 100: ingest admission, fraud-check velocity x3, settlement posting' },
  redis_command: { opsPerPayment: 3, what: "SET of ~400 bytes, pipelined by 100: ingest's idempotency result, fraud-check's blocklist HMGET and decision SET NX" },
};

export interface FloorItem {
  what: string;
  ops_per_payment: number;
  /** CPU microseconds per operation, measured in this run. */
  us_per_op: number;
  /** ops_per_payment x us_per_op. */
  subtotal_us: number;
  /** How many operations were timed. */
  measured_ops: number;
}

export interface Floor {
  items: Record<FloorItemName, FloorItem>;
  total_us_per_payment: number;
  total_ms_per_payment: number;
  /** Whose CPU the Kafka and Redis figures include besides this process. */
  broker_cpu_included: boolean;
  redis_server_cpu_included: boolean;
  redis_shared: boolean;
  /** The Kafka hop's CPU per message split: kafkajs producer + consumer in this process, the broker. */
  kafka_hop_split_us?: { client: number; broker: number | null };
}

export function usPerOp(cost: RawCost): number {
  if (!(cost.ops > 0)) throw new RangeError('usPerOp: no operations measured');
  return (cost.cpuSeconds / cost.ops) * 1e6;
}

/** The floor from one measured cost per kind of operation and PAYMENT_WORK's counts. */
export function floorFrom(costs: Record<FloorItemName, RawCost>, extra: Pick<Floor, 'broker_cpu_included' | 'redis_server_cpu_included' | 'redis_shared' | 'kafka_hop_split_us'>): Floor {
  const items = {} as Record<FloorItemName, FloorItem>;
  let total = 0;
  for (const name of Object.keys(PAYMENT_WORK) as FloorItemName[]) {
    const { opsPerPayment, what } = PAYMENT_WORK[name];
    const us = usPerOp(costs[name]);
    const subtotal = opsPerPayment * us;
    total += subtotal;
    items[name] = { what, ops_per_payment: opsPerPayment, us_per_op: round(us, 1), subtotal_us: round(subtotal, 1), measured_ops: costs[name].ops };
  }
  return { items, total_us_per_payment: round(total, 1), total_ms_per_payment: round(total / 1000, 3), ...extra };
}

/** CPU milliseconds per payment: the CPU seconds of every pipeline process over a window / the payments final in it. */
export function cpuMsPerPayment(cpuSecondsByProcess: Readonly<Record<string, number>>, payments: number): number {
  if (!(payments > 0)) throw new RangeError('cpuMsPerPayment: no payment became final in the window');
  const total = Object.values(cpuSecondsByProcess).reduce((a, b) => a + b, 0);
  return (total * 1000) / payments;
}

export interface ActualCpu {
  window_s: number;
  /** Payments that became final (settled, declined, held for review) in the window. */
  final_payments: number;
  /** Every process's CPU over the window / final_payments; null when a process could not be sampled (`missing`). */
  ms_per_payment: number | null;
  ms_per_payment_by_process: Record<string, number>;
  missing: string[];
}

/** What the pipeline spent per final payment, in all and per process. */
export function cpuPerPayment(cpuSecondsByProcess: Readonly<Record<string, number>>, missing: readonly string[], payments: number, windowS: number): ActualCpu {
  const byProcess = Object.fromEntries(Object.entries(cpuSecondsByProcess).map(([name, s]) => [name, payments > 0 ? round((s * 1000) / payments, 3) : Number.NaN]));
  const complete = missing.length === 0 && payments > 0;
  return {
    window_s: round(windowS, 1),
    final_payments: payments,
    ms_per_payment: complete ? round(cpuMsPerPayment(cpuSecondsByProcess, payments), 3) : null,
    ms_per_payment_by_process: byProcess,
    missing: [...missing],
  };
}

/** floor / actual: 1 would mean the pipeline spends nothing beyond the unavoidable work. */
export function efficiency(floorMs: number, actualMs: number): number {
  if (!(actualMs > 0)) throw new RangeError('efficiency: no actual CPU per payment');
  return floorMs / actualMs;
}

/** The raw hop's CPU per message: client (both sides) plus the broker's when it was measured. */
export function kafkaHopCost(raw: Pick<RawHopResult, 'messages' | 'clientCpuSeconds' | 'brokerCpuSeconds'>): RawCost {
  return { ops: raw.messages, cpuSeconds: raw.clientCpuSeconds + (raw.brokerCpuSeconds ?? 0) };
}

/** CPU of this process (all threads) while `work` runs. */
async function cpuOf(work: () => unknown): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

/** ES256 sign and verify as the services do them (node:crypto, JOSE P1363 signatures) over a demo payment's signing input. */
export async function measureEs256(iterations: number): Promise<{ sign: RawCost; verify: RawCost }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payment = demoPayment(1, prng(19)).payment;
  const input = Buffer.from(`${Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'floor', typ: 'payrail-instruction+jws' })).toString('base64url')}.${Buffer.from(canonicalJson(payment)).toString('base64url')}`, 'latin1');
  const signature = sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const verifyOnce = () => {
    if (!verify('sha256', input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) throw new Error('floor: ES256 verification failed');
  };
  for (let i = 0; i < 100; i++) verifyOnce(); // warm-up
  const signSeconds = await cpuOf(() => {
    for (let i = 0; i < iterations; i++) sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  });
  const verifySeconds = await cpuOf(() => {
    for (let i = 0; i < iterations; i++) verifyOnce();
  });
  return { sign: { ops: iterations, cpuSeconds: signSeconds }, verify: { ops: iterations, cpuSeconds: verifySeconds } };
}

/** One card number as ingest protects it: @payrail/crypto's JweEncrypter (native ECDH-ES+A256KW, A256GCM). */
export async function measureCardJwe(iterations: number): Promise<RawCost> {
  const { publicJwks } = await generateDevKeys({ withSigningKey: false });
  const encrypter = new JweEncrypter(await PayrailKeyStore.fromJwks(publicJwks, { source: 'floor' }));
  const number = canonicalJson('4111111111111111');
  const once = () => encrypter.encrypt(number, { extraProtected: { [PROTECTED_FIELD_HEADER]: 'card.number' } });
  for (let i = 0; i < 50; i++) await once();
  const seconds = await cpuOf(async () => {
    for (let i = 0; i < iterations; i++) await once();
  });
  return { ops: iterations, cpuSeconds: seconds };
}

/** The posting shape (FIELD-NOTES): idempotency marker check, three INCRBY, one SADD, the marker. */
const SCRIPT = `
if redis.call('GET', KEYS[1]) then return 0 end
redis.call('INCRBY', KEYS[2], ARGV[1])
redis.call('INCRBY', KEYS[3], ARGV[1])
redis.call('INCRBY', KEYS[4], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[2])
redis.call('SET', KEYS[1], '1', 'EX', 600)
return 1
`;

export interface RedisTarget {
  url: string;
  /** Every key written starts with it; removed by the caller (the stack's run prefix is). */
  prefix: string;
  /** redis-server's pid on this machine (its CPU is added), or undefined. */
  pid?: number;
}

const PIPELINE = 100;

/**
 * The pid of the redis-server at `url` (INFO server), when it runs on this machine (`local`: a container's pid is in
 * its own namespace, meaningless in this machine's /proc); undefined otherwise.
 */
export async function redisServerPid(url: string, local: boolean): Promise<number | undefined> {
  if (!local) return undefined;
  const client = new Redis(url, { maxRetriesPerRequest: 3 });
  try {
    const pid = Number(/^process_id:(\d+)/m.exec(await client.info('server'))?.[1]);
    return pid > 0 && sampleProcess(pid) ? pid : undefined;
  } finally {
    client.disconnect();
  }
}

/** Raw Redis calls, pipelined: CPU of this process plus the server's (sampled from /proc, 10 ms ticks). */
export async function measureRedis(target: RedisTarget, opsPerKind: number): Promise<{ script: RawCost; command: RawCost }> {
  const client = new Redis(target.url, { enableAutoPipelining: false, maxRetriesPerRequest: 3 });
  try {
    const sha = String(await client.script('LOAD', SCRIPT));
    const p = `${target.prefix}{floor}:`;
    const value = 'x'.repeat(400);
    const timed = async (batch: (pipeline: ReturnType<Redis['pipeline']>, i: number) => void): Promise<RawCost> => {
      const serverBefore = target.pid === undefined ? undefined : sampleProcess(target.pid);
      const clientSeconds = await cpuOf(async () => {
        for (let from = 0; from < opsPerKind; from += PIPELINE) {
          const pipeline = client.pipeline();
          for (let i = from; i < Math.min(opsPerKind, from + PIPELINE); i++) batch(pipeline, i);
          const failed = (await pipeline.exec())?.find(([err]) => err);
          if (failed) throw failed[0] ?? new Error('floor: a Redis call failed');
        }
      });
      const serverAfter = target.pid === undefined ? undefined : sampleProcess(target.pid);
      if (target.pid !== undefined && (!serverBefore || !serverAfter)) throw new Error(`floor: redis-server ${target.pid} could not be sampled`);
      return { ops: opsPerKind, cpuSeconds: clientSeconds + (serverBefore && serverAfter ? serverAfter.cpuSeconds - serverBefore.cpuSeconds : 0) };
    };
    // warm-up (connection, script cache), then each kind
    await client.evalsha(sha, 5, `${p}warm`, `${p}a`, `${p}b`, `${p}c`, `${p}s`, 1, 'warm');
    const script = await timed((pl, i) => pl.evalsha(sha, 5, `${p}m:${i}`, `${p}a`, `${p}b`, `${p}c`, `${p}s`, 1 + (i % 997), String(i % 1000)));
    const command = await timed((pl, i) => pl.set(`${p}k:${i}`, value, 'EX', 600));
    return { script, command };
  } finally {
    client.disconnect();
  }
}

export interface FloorInputs {
  /** The raw kafkajs hop of this run (rawSingleHop with the broker's pid). */
  kafkaHop: RawHopResult;
  redis: RedisTarget & { shared: boolean };
  /** Fewer repetitions (same method). */
  quick?: boolean;
}

/** Times the crypto and Redis operations and puts them together with the run's Kafka hop. */
export async function measureFloor(inputs: FloorInputs): Promise<Floor> {
  const hop = inputs.kafkaHop;
  const iterations = inputs.quick ? 1_000 : 4_000;
  const { sign: es256Sign, verify: es256Verify } = await measureEs256(iterations);
  const jwe = await measureCardJwe(iterations);
  const redis = await measureRedis(inputs.redis, inputs.quick ? 20_000 : 60_000);
  return floorFrom(
    { es256_verify: es256Verify, es256_sign: es256Sign, jwe_card: jwe, kafka_hop: kafkaHopCost(hop), redis_script: redis.script, redis_command: redis.command },
    {
      broker_cpu_included: hop.brokerCpuSeconds !== undefined,
      redis_server_cpu_included: inputs.redis.pid !== undefined,
      redis_shared: inputs.redis.shared,
      kafka_hop_split_us: { client: round((hop.clientCpuSeconds / hop.messages) * 1e6, 1), broker: hop.brokerCpuSeconds === undefined ? null : round((hop.brokerCpuSeconds / hop.messages) * 1e6, 1) },
    },
  );
}

/** The floor's lines for a console or markdown summary. */
export function floorSummary(floor: Floor): string[] {
  return (Object.entries(floor.items) as [FloorItemName, FloorItem][]).map(([name, item]) => `    ${name.padEnd(14)} ${String(item.ops_per_payment).padStart(2)} x ${item.us_per_op.toFixed(1).padStart(7)} us = ${item.subtotal_us.toFixed(1).padStart(7)} us`);
}
