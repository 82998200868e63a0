#!/usr/bin/env node
// `npm run bench:kafka -- [options]`: runs tools/bench/kafka-bench.ts against KAFKA_BROKERS/REDIS_URL when both are
// set, and otherwise first starts a broker and Redis the way `npm start` does (tools/stack Stack.startInfra, run folder
// .payrail/bench) and stops them afterwards, also on Ctrl-C. The options are the bench's (see kafka-bench.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { log } from '../../deploy/local/process-utils.mjs';
import { Stack, repoRoot } from '../stack/stack.mjs';

const args = process.argv.slice(2).filter((a) => a !== '--');

async function main() {
  let stack;
  const env = { ...process.env, SWC_NODE_PROJECT: join(repoRoot, 'tsconfig.base.json') };
  if (!(process.env.KAFKA_BROKERS && process.env.REDIS_URL)) {
    stack = new Stack({ name: 'bench' });
    stack.installSignalHandlers();
    const infra = await stack.startInfra();
    // the bench writes its Redis keys under this run's prefix, whose keys stack.stop() removes
    Object.assign(env, { ...stack.infraEnv(), KAFKA_BROKERS: infra.kafkaBrokers, REDIS_URL: infra.redisUrl, PAYRAIL_RUN_KEY_PREFIX: infra.redisKeyPrefix, PAYRAIL_BENCH_INFRA: `started (${infra.mode})` });
  }
  try {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(repoRoot, 'tools/bench/kafka-bench.ts'), ...args], { cwd: repoRoot, env, stdio: 'inherit' });
    return await new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    if (stack) await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`bench: ${err.message}`);
    process.exit(1);
  },
);
