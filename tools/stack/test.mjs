// `npm test`: every layer, against real infrastructure.
//   static       lint (module boundaries), type-check and build of every project
//   unit         each project's *.spec.ts (no I/O)
//   integration  *.int-spec.ts against the real Kafka broker and Redis started here
//   e2e          *.e2e-spec.ts against the four services and the console running as separate processes (the
//                console's browser test drives Debian's chromium, installed here when missing)
//   scale        the short scale-out simulation (tools/stack/scale-sim.mjs) on the same running services
//   chaos        the short chaos test (tools/bench/chaos-test.ts --short) on a stack of its own
//   deploy       the deployment boot test (deploy/boot/boot.ts --target all): the images built by executing the
//                Dockerfile, then docker-compose.yml and both Kubernetes overlays booted from them, 200 payments each
// Prints each runner's summary and a last line "N passed, N failed"; exits non-zero on any failure.
// Every step has a deadline (STEP_MINUTES): a step that hangs (a test whose clean-up never returns, a process that
// will not exit) is stopped with its whole process group and counted as failed, so `npm test` always ends and
// says which step it was.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../../deploy/local/process-utils.mjs';
import { ensureChromium } from './chromium.mjs';
import { startOtlpReceiver } from './otlp-receiver.mjs';
import { Stack, repoRoot } from './stack.mjs';

const ALL = ['static', 'unit', 'integration', 'e2e', 'scale', 'chaos', 'deploy'];
const NX_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', TZ: 'UTC', FORCE_COLOR: '0' };
// Deadlines per step in minutes, about 3x what each takes on the 2-core reference machine (README, Tests).
const STEP_MINUTES = { static: 20, unit: 10, integration: 30, e2e: 20, chaos: 20, deploy: 30 };
const JEST = join(repoRoot, 'node_modules', 'jest', 'bin', 'jest.js');

export async function runTests({ layers }) {
  const selected = layers && layers.length > 0 ? layers : ALL;
  const totals = { passed: 0, failed: 0 };
  const failures = [];
  const started = Date.now();
  const stack = new Stack({ name: 'test' });
  let otlp; // the e2e run's trace receiver: the services trace only for the tracing test (e2e/tracing.e2e-spec.ts)
  stopStepOnSignal();
  stack.installSignalHandlers();
  try {
    if (selected.includes('static')) {
      const ok = await step('lint, typecheck and build (every project)', 'npx', ['nx', 'run-many', '-t', 'lint', 'typecheck', 'build', '--output-style=static'], NX_ENV, STEP_MINUTES.static);
      ok ? totals.passed++ : (totals.failed++, failures.push('static checks'));
    }
    if (selected.includes('unit')) {
      await jestLayer('unit', ['-c', 'jest.unit.config.cjs'], NX_ENV, totals, failures);
    }
    if (selected.includes('integration') || selected.includes('e2e') || selected.includes('scale')) {
      await stack.startInfra();
      if (!selected.includes('static')) stack.build();
      stack.devSetup();
      stack.ensureTopics();
    }
    if (selected.includes('integration')) {
      await jestLayer('integration', ['-c', 'jest.integration.config.cjs'], { ...NX_ENV, ...stack.testEnv(), PAYRAIL_TEST_RUN_DIR: stack.runDir }, totals, failures);
    }
    const chromium = selected.includes('e2e') ? ensureChromium() : undefined;
    // what the services write from here on is the end-to-end run (the plaintext scan reads Kafka from this time)
    const e2eStartedMs = Date.now();
    if (selected.includes('e2e') || selected.includes('scale')) {
      await stack.allocatePorts({ preferWellKnown: false });
      if (selected.includes('e2e')) otlp = await startOtlpReceiver(join(stack.runDir, 'otlp-spans.jsonl'));
      await stack.startServices({ withConsole: selected.includes('e2e'), extraEnv: otlp?.tracingEnv });
    }
    if (selected.includes('e2e')) {
      const env = {
        ...NX_ENV,
        ...stack.infraEnv(),
        PAYRAIL_TEST_RUN_DIR: stack.runDir,
        PAYRAIL_KEYS_JSON: JSON.stringify(stack.keys),
        PAYRAIL_PORTS_JSON: JSON.stringify(stack.ports),
        // the plaintext scan judges what the pipeline wrote from here on, not the integration layer's test messages
        PAYRAIL_E2E_STARTED_MS: String(e2eStartedMs),
        PAYRAIL_CHROMIUM: chromium,
        PAYRAIL_OTLP_SPANS_FILE: otlp?.file,
      };
      await jestLayer('e2e', ['-c', 'jest.e2e.config.cjs'], env, totals, failures);
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
    await otlp?.close();
  }
  if (selected.includes('chaos')) {
    // its own stack (two instances of fraud-check and settlement, a private Redis it restarts); the long form is
    // npm run test:chaos
    const json = join(repoRoot, '.payrail', 'chaos-short.json');
    const ok = await step('chaos test (short form: kills, a broker restart, a Redis restart and a ledger rebuild)', 'npm', ['run', 'test:chaos', '--', '--short', '--json', json], NX_ENV, STEP_MINUTES.chaos);
    ok ? totals.passed++ : (totals.failed++, failures.push(`chaos test (see ${json})`));
  }
  if (selected.includes('deploy')) {
    // builds the images by executing the Dockerfile, then boots compose, k8s-dev and k8s-prod from them (README,
    // Deployment); its report fails the step on any bad figure
    const json = join(repoRoot, '.payrail', 'deploy-boot.json');
    const ok = await step('deployment boot test (images from the Dockerfile; compose, k8s-dev and k8s-prod booted, 200 payments each)', 'npm', ['run', 'deploy:boot', '--', '--target', 'all', '--json', json], NX_ENV, STEP_MINUTES.deploy);
    ok ? totals.passed++ : (totals.failed++, failures.push(`deployment boot test (see ${json})`));
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  log(`test layers: ${selected.join(', ')} in ${minutes} min`);
  if (failures.length > 0) log(`FAILED: ${failures.join('; ')}`);
  process.stdout.write(`Tests: ${totals.passed} passed, ${totals.failed} failed\n`);
  return failures.length === 0 ? 0 : 1;
}

let running; // the step's child process, leader of its own process group

/** On Ctrl-C or SIGTERM the running step's whole process group goes too (it is detached from our group). */
function stopStepOnSignal() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => stillRunning(running) && signalGroup(running.pid, 'SIGTERM'));
  }
}

const stillRunning = (child) => child !== undefined && child.exitCode === null && child.signalCode === null;

/** Signals a step's whole process group (its leader's pid, negated); a group already gone is fine. */
function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Runs one step to completion in its own process group. Past its deadline the group gets SIGTERM (a stack the
 * step started stops what it started), then SIGKILL 30 s later; the step counts as failed.
 */
function step(title, command, args, env, minutes) {
  log(`== ${title}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: 'inherit', detached: true });
    running = child;
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      log(`${title}: still running after ${minutes} min; stopping it (counted as failed)`);
      signalGroup(child.pid, 'SIGTERM');
      setTimeout(() => stillRunning(child) && signalGroup(child.pid, 'SIGKILL'), 30_000).unref();
    }, minutes * 60_000);
    const done = (ok) => {
      clearTimeout(deadline);
      running = undefined;
      resolve(ok && !timedOut);
    };
    child.once('error', (err) => {
      log(`${title}: could not start ${command}: ${err.message}`);
      done(false);
    });
    child.once('exit', (code) => {
      // what it left behind in its group (a worker that outlived it) goes with it
      signalGroup(child.pid, 'SIGKILL');
      done(code === 0);
    });
  });
}

/**
 * Runs one Jest layer; its per-test counts are added to the totals (from Jest's JSON report). --forceExit: once
 * the results are written, a handle a test left open must not keep the run alive (the report still names the
 * test whose clean-up failed).
 */
async function jestLayer(layer, args, env, totals, failures) {
  const report = join(repoRoot, '.payrail', `jest-${layer}.json`);
  rmSync(report, { force: true });
  const ok = await step(`${layer} tests`, process.execPath, [JEST, ...args, '--forceExit', '--json', `--outputFile=${report}`], env, STEP_MINUTES[layer]);
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
