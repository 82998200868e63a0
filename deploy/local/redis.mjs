// Redis for the local stack: use REDIS_URL if it answers; otherwise start redis-server on a free port (no
// persistence: Kafka is the source of truth); otherwise fail with what to do. Dependency-free (RESP by hand).
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort, waitForExit, log } from './process-utils.mjs';

/** Sends PING (with AUTH when the URL has credentials); resolves true on +PONG. */
export function redisAnswers(url, timeoutMs = 1500) {
  return new Promise((resolve) => {
    let parsed;
    try { parsed = new URL(url); } catch { resolve(false); return; }
    if (parsed.protocol !== 'redis:') { resolve(false); return; } // rediss:// is checked by the apps themselves
    const socket = connect({ host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 6379) });
    const timer = setTimeout(() => { socket.destroy(); resolve(false); }, timeoutMs);
    let buffer = '';
    socket.once('connect', () => {
      const commands = [];
      if (parsed.password) {
        const user = decodeURIComponent(parsed.username || 'default');
        commands.push(['AUTH', user, decodeURIComponent(parsed.password)]);
      }
      commands.push(['PING']);
      socket.write(commands.map(encode).join(''));
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      if (buffer.includes('-')) { clearTimeout(timer); socket.destroy(); resolve(false); }
      if (buffer.includes('+PONG')) { clearTimeout(timer); socket.destroy(); resolve(true); }
    });
    socket.once('error', () => { clearTimeout(timer); resolve(false); });
  });
}

function encode(args) {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Returns { url, started, stop }. `started` is false when an existing Redis (REDIS_URL, or the default
 * 127.0.0.1:6379 when allowDefault) was reused; then stop() does nothing and the caller isolates its data with a
 * key prefix or database number.
 */
export async function ensureRedis({ runDir, url = process.env.REDIS_URL, allowDefault = true }) {
  if (url) {
    if (await redisAnswers(url)) return { url, started: false, stop: async () => {} };
    log(`redis: REDIS_URL=${redact(url)} does not answer PING; starting a private redis-server instead`);
  } else if (allowDefault && (await redisAnswers('redis://127.0.0.1:6379'))) {
    return { url: 'redis://127.0.0.1:6379', started: false, stop: async () => {} };
  }
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'Redis is not reachable and redis-server is not installed. Either set REDIS_URL=redis://host:port to a running ' +
        'Redis 7, install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or run with a Docker engine.',
    );
  }
  const port = await freePort();
  const dir = join(runDir, 'redis');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const launch = async () => {
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, 'redis.log')],
      { stdio: 'ignore', detached: true },
    );
    child.unref();
    await waitForPort(port, { timeoutMs: 15_000, process: child, what: 'redis-server' });
    return child.pid;
  };
  const stopPid = async (pid, signal) => {
    try { process.kill(pid, signal); } catch { return; }
    if (!(await waitForExit(pid, 5000))) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  };
  const server = {
    url: `redis://127.0.0.1:${port}`,
    started: true,
    pid: await launch(),
    stop: () => stopPid(server.pid, 'SIGTERM'),
    /** Kills the server and starts an empty one on the same port: what a Redis without persistence does after a crash. */
    restart: async () => {
      await stopPid(server.pid, 'SIGKILL');
      server.pid = await launch();
      return server.pid;
    },
  };
  return server;
}

export function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
