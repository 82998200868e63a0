#!/usr/bin/env node
// `npm start` and `npm test`: one entry point that installs what is missing, brings up Kafka and Redis (local
// processes without Docker, docker compose / testcontainers where a Docker engine answers), builds and starts the
// four services, and runs the demo stream or the test layers. Dependency-free until `npm ci` has run.
//
//   node tools/stack/cli.mjs start [--once --payments N --summary FILE]
//   node tools/stack/cli.mjs test
//   node tools/stack/cli.mjs infra            (Kafka + Redis only, prints their addresses, Ctrl-C stops them)
//   node tools/stack/cli.mjs sim-scale [--json FILE] [--short]   (scale-out simulation: tools/stack/scale-sim.mjs)
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { log } from '../../deploy/local/process-utils.mjs';
import { Stack, repoRoot } from './stack.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    once: { type: 'boolean', default: false },
    payments: { type: 'string' },
    summary: { type: 'string' },
    rate: { type: 'string' },
    layer: { type: 'string', multiple: true },
    json: { type: 'string' },
    short: { type: 'boolean', default: false },
  },
});
const command = positionals[0] ?? 'start';

/**
 * `npm ci` exactly as locked (no fallback: a lock file npm refuses is a bug to fix, not to paper over), then the one
 * install-time step Payrail needs, applying patches/ to dependencies. `.npmrc` turns every dependency install script
 * off (docs/operations.md, "Dependencies"); patch-package is idempotent, so it runs on every start.
 */
function ensureInstalled() {
  // a checkout whose node_modules links to another's install (a git worktree) must not reinstall through the link:
  // npm ci would empty the other checkout's node_modules first
  const modules = join(repoRoot, 'node_modules');
  if (existsSync(modules) && lstatSync(modules).isSymbolicLink()) {
    log(`node_modules links to ${realpathSync(modules)}: using that install as it is (no npm ci, no patches)`);
    return;
  }
  const lock = join(repoRoot, 'package-lock.json');
  const marker = join(repoRoot, 'node_modules', '.package-lock.json');
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
    log('installing dependencies (npm ci)');
    const res = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: repoRoot, stdio: 'inherit' });
    if (res.status !== 0) throw new Error('npm ci failed: the lock file must install as it is (see the error above)');
  }
  const patched = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'patch-package', 'index.js'), '--error-on-fail'], { cwd: repoRoot, encoding: 'utf8' });
  if (patched.status !== 0) throw new Error(`applying patches/ failed:\n${patched.stdout}${patched.stderr}`);
}

async function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) throw new Error(`Node.js 20 or newer is required (this is ${process.version})`);
  ensureInstalled();
  if (command === 'start') {
    const { runStart } = await import('./start.mjs');
    return runStart({
      once: values.once,
      payments: values.payments ? Number(values.payments) : undefined,
      summary: values.summary ? resolve(values.summary) : undefined,
      rate: values.rate ? Number(values.rate) : undefined,
    });
  }
  if (command === 'test') {
    const { runTests } = await import('./test.mjs');
    return runTests({ layers: values.layer });
  }
  if (command === 'sim-scale') {
    const { runScaleCommand } = await import('./scale-sim.mjs');
    return runScaleCommand({ json: values.json ? resolve(values.json) : undefined, short: values.short });
  }
  if (command === 'infra') {
    const stack = new Stack({ name: 'infra' });
    stack.installSignalHandlers();
    const infra = await stack.startInfra();
    log(`KAFKA_BROKERS=${infra.kafkaBrokers} REDIS_URL=${infra.redisUrl} (Ctrl-C stops them)`);
    // everything the integration tests read, including the SCRAM test user's password (kept out of the log)
    const envFile = join(stack.runDir, 'test.env');
    writeFileSync(envFile, Object.entries(stack.testEnv()).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
    log(`integration-test environment in ${envFile} (set -a; . ${envFile}; set +a)`);
    await stack.untilSignal();
  }
  throw new Error(`unknown command ${command}: use start, test, sim-scale or infra`);
}

main().then(
  (code) => process.exit(typeof code === 'number' ? code : 0),
  (err) => {
    log(`error: ${err.message}`);
    process.exit(1);
  },
);
