// The floor alone (lib/floor.ts): the unavoidable work of one payment (3 ES256 verifications, 1 ES256 signature, the
// card's JWE, 4 raw kafkajs hops, its Redis calls), each operation timed raw on this machine, CPU only. It starts a
// broker and Redis the way the stack does (no services) and stops them; `npm run bench` measures the same in its run,
// next to what the pipeline actually spends.
//
//   npm run bench:floor -- --json FILE [--quick]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TOPICS } from '@payrail/contracts';
import { floorSummary, measureFloor, redisServerPid } from './lib/floor';
import { round } from './lib/measure';
import { rawSingleHop } from './lib/raw-kafka';
import { benchKeys } from './lib/run-keys';
import type { Stack as StackType } from '../stack/stack.mjs';

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { json: { type: 'string' }, quick: { type: 'boolean', default: false } } });
  const jsonFile = resolve(values.json ?? 'bench/results/floor.json');
  const quick = values.quick ?? false;
  const { Stack } = (await import('../stack/stack.mjs')) as { Stack: typeof StackType };
  const stack = new Stack({ name: 'bench-floor' });
  stack.installSignalHandlers();
  try {
    const infra = await stack.startInfra();
    const redisPid = await redisServerPid(infra.redisUrl, infra.mode === 'local');
    process.stderr.write('floor: raw kafkajs hop\n');
    const hop = await rawSingleHop({ brokers: infra.kafkaBrokers, sasl: stack.kafkaClientConfig().sasl, messages: quick ? 30_000 : 100_000, messageBytes: 1_200, partitions: TOPICS.paymentsAccepted.partitions, brokerPid: infra.kafkaPid });
    process.stderr.write('floor: crypto and Redis calls\n');
    const keys = await benchKeys('floor', infra.redisUrl, infra.redisKeyPrefix);
    const floor = await measureFloor({ kafkaHop: hop, redis: { url: infra.redisUrl, prefix: keys.prefix, pid: redisPid, shared: infra.redisShared }, quick });
    await keys.release();
    const result = { machine: { node: process.version, cpus: cpus().length }, floor_cpu_ms_per_payment: floor.total_ms_per_payment, raw_single_hop_per_s: round(hop.perS), floor };
    mkdirSync(dirname(jsonFile), { recursive: true });
    writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write([`payrail floor (${cpus().length} CPUs, node ${process.version}): ${floor.total_ms_per_payment} ms of CPU per payment`, ...floorSummary(floor), `  wrote ${jsonFile}`, ''].join('\n'));
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`floor bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
