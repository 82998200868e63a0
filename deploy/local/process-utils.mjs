// Small process and port helpers for the local stack. Dependency-free.
import { createServer, connect } from 'node:net';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function log(message) {
  process.stderr.write(`[payrail] ${message}\n`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

export async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

export function portOpen(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => { socket.destroy(); resolve(false); });
  });
}

/** Waits until something accepts TCP connections on the port; fails early if `process` exits first. */
export async function waitForPort(port, { timeoutMs, process: child, what, host = '127.0.0.1' }) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child?.once('exit', () => { exited = true; });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${what} exited before it listened on port ${port}`);
    if (await portOpen(port, host)) return;
    await sleep(250);
  }
  throw new Error(`${what} did not listen on port ${port} within ${Math.round(timeoutMs / 1000)} s`);
}

/** Ports this process has handed out: an ephemeral port the kernel gives twice (it may, once the probe closed) is drawn again. */
const handedOut = new Set();

/** A TCP port nobody listens on now (preferred first if it is free), never one this process handed out before. */
export async function freePort(preferred) {
  if (preferred && !handedOut.has(preferred) && !(await portOpen(preferred)) && (await canBind(preferred))) {
    handedOut.add(preferred);
    return preferred;
  }
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address();
        server.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function canBind(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Records the processes a run starts, so a later run cleans up after one that was killed (kill -9, closed
 * terminal): every pid file left in runDir/pids whose process still runs our command line is stopped.
 */
export class PidRegistry {
  constructor(runDir) {
    this.dir = join(runDir, 'pids');
    mkdirSync(this.dir, { recursive: true });
  }

  record(name, pid, marker) {
    writeFileSync(join(this.dir, `${name}.json`), JSON.stringify({ pid, marker }));
  }

  forget(name) {
    rmSync(join(this.dir, `${name}.json`), { force: true });
  }

  /** Kills leftovers from a previous run; returns their names. */
  async reapLeftovers() {
    const reaped = [];
    if (!existsSync(this.dir)) return reaped;
    for (const file of readdirSync(this.dir)) {
      const path = join(this.dir, file);
      let entry;
      try { entry = JSON.parse(readFileSync(path, 'utf8')); } catch { rmSync(path, { force: true }); continue; }
      if (isAlive(entry.pid) && commandLineOf(entry.pid).includes(entry.marker)) {
        try { process.kill(-entry.pid, 'SIGKILL'); } catch { /* not a group leader */ }
        try { process.kill(entry.pid, 'SIGKILL'); } catch { /* gone */ }
        await waitForExit(entry.pid, 5000);
        reaped.push(file.replace(/\.json$/, ''));
      }
      rmSync(path, { force: true });
    }
    return reaped;
  }
}

/** The processes recorded in runDir/pids that still run (what a run that was killed left running). */
export function liveRecordedProcesses(runDir) {
  const dir = join(runDir, 'pids');
  if (!existsSync(dir)) return [];
  const live = [];
  for (const file of readdirSync(dir)) {
    try {
      const entry = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      if (isAlive(entry.pid) && commandLineOf(entry.pid).includes(entry.marker)) live.push(file.replace(/\.json$/, ''));
    } catch { /* unreadable: not a process */ }
  }
  return live;
}

/**
 * When a process started (clock ticks since boot, from /proc; undefined where there is no /proc): with the pid, it
 * tells a process apart from a later one that got the same pid.
 */
export function processStartTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function commandLineOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
