// The built services (dist/apps/<name>/main.js) as separate processes for integration tests, as they run in
// production: real signals (SIGHUP reloads keys, SIGTERM drains), real exit codes, and their whole output kept so
// a test can read what they logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { kafkaClientEnv } from '@payrail/messaging';

export const repoRoot = join(__dirname, '..', '..', '..', '..');

/** Fails with the command to run when a service was not built (npm test builds every project first). */
export function builtEntry(app: string): string {
  const entry = join(repoRoot, 'dist', 'apps', app, 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build it first (NX_DAEMON=false npx nx run-many -t build -p signing fraud-check payrail-cli)`);
  return entry;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class ServiceProcess {
  private output = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(app: string, env: Record<string, string>): Promise<ServiceProcess> {
    const port = env['HTTP_PORT'] ? Number(env['HTTP_PORT']) : await freePort();
    const child = spawn(process.execPath, ['--enable-source-maps', builtEntry(app)], {
      cwd: repoRoot,
      // the test run's Kafka principal (KAFKA_SASL_*) unless the test says otherwise
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...kafkaClientEnv(process.env), ...env, HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(app, port, child);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get logs(): string {
    return this.output;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`${this.name} exited (${exitCode}) before it was ready:\n${this.output.slice(-3000)}`);
      try {
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(1_000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${this.name} not ready within ${timeoutMs / 1000} s:\n${this.output.slice(-3000)}`);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves with the exit code (null when killed by a signal). */
  waitExit(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM (graceful drain), SIGKILL after the timeout. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, timeoutMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
  }
}
