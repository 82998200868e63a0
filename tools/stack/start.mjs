// `npm start`: the whole pipeline on this machine, a demo stream through it, until Ctrl-C.
// `npm start -- --once --payments N --summary FILE`: headless; exits 0 only if no payment was lost.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { log } from '../../deploy/local/process-utils.mjs';
import { Stack, repoRoot } from './stack.mjs';

export async function runStart({ once, payments, summary, rate }) {
  const stack = new Stack({ name: once ? 'once' : 'start' });
  stack.installSignalHandlers();
  try {
    await stack.up({ withConsole: true });
    const base = (name) => `http://127.0.0.1:${stack.ports[name]}`;
    log('Payrail is running:');
    log(`  ingest       ${base('ingest')}/v1/payments   (health: ${base('ingest')}/health/ready)`);
    log(`  signing      ${base('signing')}/.well-known/jwks.json`);
    log(`  fraud-check  ${base('fraud-check')}/health/ready`);
    log(`  settlement   ${base('settlement')}/health/ready`);
    const sign = JSON.parse(readFileSync(stack.keys.consoleCredentialsFile, 'utf8'));
    log(`  console      ${base('console')}/   sign in as ${sign.operator.username} / ${sign.operator.password} (operator) or ${sign.viewer.username} / ${sign.viewer.password} (viewer); development credentials of this run only`);
    log(`  kafka        ${stack.infra.kafkaBrokers}   redis ${stack.infra.redisUrl}`);
    log(`  logs         ${stack.runDir}/logs/`);

    const count = payments ?? (once ? 100 : 200);
    const args = ['dist/apps/upstream-kit/main.js', 'demo', '--ingest', base('ingest'), '--upstreams', stack.keys.upstreamsDir, '--keys', stack.keys.upstreamKeysDir, '--payments', String(count)];
    if (summary) args.push('--summary', summary);
    if (rate) args.push('--rate', String(rate));
    if (!once) args.push('--progress');
    const code = await new Promise((resolve) => {
      const child = spawn('node', args, { cwd: repoRoot, stdio: 'inherit' });
      child.once('exit', (c) => resolve(c ?? 1));
    });
    if (once) return code;
    log('demo stream done; Payrail keeps running. Press Ctrl-C to stop everything (services, Kafka, Redis).');
    await stack.untilSignal();
  } finally {
    await stack.stop();
  }
  return 0;
}
