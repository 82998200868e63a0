// `npm test`: every layer, against real infrastructure.
//   static       lint (module boundaries), type-check and build of every project
//   unit         each project's *.spec.ts (no I/O)
//   integration  *.int-spec.ts against the real Kafka broker and Redis started here
//   e2e          *.e2e-spec.ts against the four services and the console running as separate processes (the
//                console's browser test drives Debian's chromium, installed here when missing)
//   scale        the short scale-out simulation (tools/stack/scale-sim.mjs) on the same running services
//   chaos        the short chaos test (tools/bench/chaos-test.ts --short) on a stack of its own
// Prints each runner's summary and a last line "N passed, N failed"; exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../../deploy/local/process-utils.mjs';
import { ensureChromium } from './chromium.mjs';
import { Stack, repoRoot } from './stack.mjs';

const ALL = ['static', 'unit', 'integration', 'e2e', 'scale', 'chaos'];
const NX_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', TZ: 'UTC', FORCE_COLOR: '0' };

export async function runTests({ layers }) {
  const selected = layers && layers.length > 0 ? layers : ALL;
  const totals = { passed: 0, failed: 0 };
  const failures = [];
  const started = Date.now();
  const stack = new Stack({ name: 'test' });
  stack.installSignalHandlers();
  try {
    if (selected.includes('static')) {
      const ok = step('lint, typecheck and build (every project)', 'npx', ['nx', 'run-many', '-t', 'lint', 'typecheck', 'build', '--output-style=static'], NX_ENV);
      ok ? totals.passed++ : (totals.failed++, failures.push('static checks'));
    }
    if (selected.includes('unit')) {
      jestLayer('unit', ['-c', 'jest.unit.config.cjs'], NX_ENV, totals, failures);
    }
    if (selected.includes('integration') || selected.includes('e2e') || selected.includes('scale')) {
      await stack.startInfra();
      if (!selected.includes('static')) stack.build();
      stack.devSetup();
      stack.ensureTopics();
    }
    if (selected.includes('integration')) {
      jestLayer('integration', ['-c', 'jest.integration.config.cjs'], { ...NX_ENV, ...stack.testEnv(), PAYRAIL_TEST_RUN_DIR: stack.runDir }, totals, failures);
    }
    const chromium = selected.includes('e2e') ? ensureChromium() : undefined;
    // what the services write from here on is the end-to-end run (the plaintext scan reads Kafka from this time)
    const e2eStartedMs = Date.now();
    if (selected.includes('e2e') || selected.includes('scale')) {
      await stack.allocatePorts({ preferWellKnown: false });
      await stack.startServices({ withConsole: selected.includes('e2e') });
    }
    if (selected.includes('e2e')) {
      const env = {
        ...NX_ENV,
        ...stack.infraEnv(),
        PAYRAIL_TEST_RUN_DIR: stack.runDir,
        PAYRAIL_KEYS_JSON: JSON.stringify(stack.keys),
        PAYRAIL_PORTS_JSON: JSON.stringify(stack.ports),
        PAYRAIL_CHROMIUM: chromium,
      };
      jestLayer('e2e', ['-c', 'jest.e2e.config.cjs'], env, totals, failures);
    }
    if (selected.includes('scale')) {
      await stack.stopService('console'); // the simulation measures the services alone
      log('== scale-out simulation (short form; the long form is npm run sim:scale)');
      const { runScaleSimulation } = await import('./scale-sim.mjs');
      const report = await runScaleSimulation(stack, { json: join(repoRoot, '.payrail', 'sim-scale-short.json') });
      report.ok ? totals.passed++ : (totals.failed++, failures.push('scale-out simulation (see .payrail/sim-scale-short.json)'));
    }
  } catch (err) {
    totals.failed++;
    failures.push(`set-up: ${err.message}`);
  } finally {
    await stack.stop();
  }
  if (selected.includes('chaos')) {
    // its own stack (two instances of fraud-check and settlement, a private Redis it restarts); the long form is
    // npm run test:chaos
    const json = join(repoRoot, '.payrail', 'chaos-short.json');
    const ok = step('chaos test (short form: kills, a broker restart, a Redis restart and a ledger rebuild)', 'npm', ['run', 'test:chaos', '--', '--short', '--json', json], NX_ENV);
    ok ? totals.passed++ : (totals.failed++, failures.push(`chaos test (see ${json})`));
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  log(`test layers: ${selected.join(', ')} in ${minutes} min`);
  if (failures.length > 0) log(`FAILED: ${failures.join('; ')}`);
  process.stdout.write(`Tests: ${totals.passed} passed, ${totals.failed} failed\n`);
  return failures.length === 0 ? 0 : 1;
}

function step(title, command, args, env) {
  log(`== ${title}`);
  const res = spawnSync(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: 'inherit' });
  return res.status === 0;
}

/** Runs one Jest layer; its per-test counts are added to the totals (from Jest's JSON report). */
function jestLayer(layer, args, env, totals, failures) {
  const report = join(repoRoot, '.payrail', `jest-${layer}.json`);
  rmSync(report, { force: true });
  const ok = step(`${layer} tests`, 'npx', ['jest', ...args, '--json', `--outputFile=${report}`], env);
  if (existsSync(report)) {
    const result = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += result.numPassedTests;
    totals.failed += result.numFailedTests + (result.numRuntimeErrorTestSuites ?? 0);
    if (result.numTotalTests === 0) {
      totals.failed++;
      failures.push(`${layer}: no tests ran`);
      return;
    }
  } else {
    totals.failed++;
  }
  if (!ok) failures.push(`${layer} tests`);
}
