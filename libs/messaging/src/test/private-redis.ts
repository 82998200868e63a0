// A private redis-server for an integration test that needs a server configured unlike the shared one (TLS, cluster
// mode): started on a free port with the given options, no persistence, stopped by `stop()`. Needs `redis-server`
// on the PATH.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from './kafka-test-kit';

export interface PrivateRedis {
  port: number;
  /** Its working folder (certificates, cluster config), removed by stop(). */
  dir: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts redis-server with `options(port, dir)` (what it listens on and how) plus no persistence, and waits until the
 * port accepts connections. `prepare(dir)` runs first (e.g. writes certificates into the folder).
 */
export async function startPrivateRedis(
  name: string,
  options: (port: number, dir: string) => string[],
  prepare?: (dir: string) => Promise<void>,
): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), `payrail-redis-${name}-`));
  await prepare?.(dir);
  const port = await freePort();
  const server: ChildProcess = spawn('redis-server', [...options(port, dir), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  let failed: Error | undefined;
  server.once('error', (err) => (failed = err));
  const stop = (): void => {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(async () => {
      if (failed) throw new Error(`cannot start redis-server (${failed.message}): this test needs redis-server on the PATH`);
      return listening(port);
    }, 15_000, `the ${name} redis-server to listen`);
  } catch (err) {
    stop();
    throw err;
  }
  return { port, dir, stop };
}
