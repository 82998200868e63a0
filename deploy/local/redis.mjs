// Redis for the local stack: use REDIS_URL if it answers; otherwise start redis-server on a free port (no
// persistence: Kafka is the source of truth); otherwise fail with what to do. Dependency-free (RESP by hand).
//
// A run that reuses a Redis it did not start writes under a key prefix of its own and removes every key under it
// when it stops; the prefix is recorded in its run folder first (.payrail/<run>/redis-prefixes/), so the keys of a
// run that was killed are removed by the next run (cleanAbandonedPrefixes). One implementation for the stack, the
// benchmarks and the tests:
//
//   newRunPrefix(name)                     payrail-run-<name>-<8 hex>:
//   claimRunPrefix({ runDir, url, prefix }) records the prefix; returns { prefix, url, release() }
//   cleanAbandonedPrefixes(payrailDir)     removes the keys of runs whose process is gone
//   deleteKeysUnderPrefix(url, prefix)     SCAN MATCH <prefix>* + UNLINK in batches, bounded in time
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { freePort, isAlive, liveRecordedProcesses, processStartTime, waitForPort, waitForExit, log } from './process-utils.mjs';

// ---- a minimal RESP2 client ------------------------------------------------------------------------------------

export class RedisReplyError extends Error {
  name = 'RedisReplyError';
}

const CRLF = Buffer.from('\r\n');

/** One command as RESP: an array of bulk strings (arguments are strings or Buffers, sent byte for byte). */
export function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/**
 * Parses one RESP2 reply at `at`: { value, end }, or undefined while it is incomplete. Bulk strings stay Buffers
 * (keys are bytes), integers are numbers, errors are RedisReplyError values, nil is null.
 */
export function parseReply(buffer, at = 0) {
  const lineEnd = buffer.indexOf(CRLF, at);
  if (lineEnd < 0) return undefined;
  const line = buffer.toString('latin1', at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (buffer[at]) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new RedisReplyError(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: { // $
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.subarray(next, next + length), end: next + length + 2 };
    }
    case 0x2a: { // *
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, position);
        if (!item) return undefined;
        items.push(item.value);
        position = item.end;
      }
      return { value: items, end: position };
    }
    default:
      throw new Error(`unexpected RESP reply (first byte ${buffer[at]})`);
  }
}

/**
 * Opens a connection (redis:// or rediss://, REDIS_TLS_CA_FILE for the latter), authenticates with the URL's user
 * and password and selects its database. Returns { command(args): Promise, close() }. A reply that takes longer than
 * timeoutMs, or a connection that cannot be made within it, fails the pending commands.
 */
export function openRedis(url, { timeoutMs = 5000 } = {}) {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return Promise.reject(new Error(`not a Redis URL: ${redact(url)}`));
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = Number(parsed.port || 6379);
  const ca = process.env.REDIS_TLS_CA_FILE ? readFileSync(process.env.REDIS_TLS_CA_FILE) : undefined;
  const socket = parsed.protocol === 'rediss:' ? tlsConnect({ host, port, servername: host, ca }) : connect({ host, port });
  const pending = [];
  let buffer = Buffer.alloc(0);
  let failure;
  let connected = false;
  const fail = (err) => {
    failure ??= err;
    for (const p of pending.splice(0)) p.reject(failure);
    socket.destroy();
  };
  socket.setTimeout(timeoutMs, () => {
    if (!connected || pending.length > 0) fail(new Error(`Redis at ${redact(url)} did not answer within ${timeoutMs} ms`));
  });
  socket.on('error', fail);
  socket.on('close', () => fail(new Error(`connection to Redis at ${redact(url)} closed`)));
  socket.on('data', (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    try {
      for (let reply = parseReply(buffer); reply; reply = parseReply(buffer)) {
        buffer = buffer.subarray(reply.end);
        const p = pending.shift();
        if (reply.value instanceof RedisReplyError) p?.reject(reply.value);
        else p?.resolve(reply.value);
      }
    } catch (err) {
      fail(err);
    }
  });
  const command = (args) =>
    new Promise((resolve, reject) => {
      if (failure) { reject(failure); return; }
      pending.push({ resolve, reject });
      socket.write(encodeCommand(args));
    });
  const connection = { command, close: () => { failure ??= new Error('closed'); socket.end(); socket.destroy(); } };
  const ready = new Promise((resolve, reject) => {
    socket.once(parsed.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      connected = true;
      resolve();
    });
    socket.once('error', reject);
    socket.once('timeout', () => reject(failure ?? new Error('timeout')));
  });
  return (async () => {
    try {
      await ready;
      if (parsed.password) await command(['AUTH', decodeURIComponent(parsed.username || 'default'), decodeURIComponent(parsed.password)]);
      const db = Number(parsed.pathname.slice(1) || 0);
      if (db > 0) await command(['SELECT', String(db)]);
      return connection;
    } catch (err) {
      connection.close();
      throw err;
    }
  })();
}

/** Sends PING (with AUTH when the URL has credentials); resolves true on +PONG. */
export async function redisAnswers(url, timeoutMs = 1500) {
  try {
    if (new URL(url).protocol !== 'redis:') return false; // rediss:// is checked by the apps themselves
  } catch {
    return false;
  }
  let connection;
  try {
    connection = await openRedis(url, { timeoutMs });
    return (await connection.command(['PING'])) === 'PONG';
  } catch {
    return false;
  } finally {
    connection?.close();
  }
}

// ---- a run's key prefix on a Redis it shares ------------------------------------------------------------------

const RECORDS = 'redis-prefixes';
/** A record whose Redis has not answered for this long is dropped (that Redis, and its keys, are gone). */
const UNREACHABLE_FOR_MS = 7 * 24 * 3600_000;

/** A key prefix for one run: payrail-run-<name>-<8 hex>: (letters, digits, '-', ':'; what REDIS_KEY_PREFIX allows). */
export function newRunPrefix(name) {
  return `payrail-run-${String(name).replace(/[^A-Za-z0-9_-]/g, '-')}-${randomBytes(4).toString('hex')}:`;
}

/** The SCAN MATCH pattern of every key that starts with `prefix` (glob characters in it taken literally). */
export function prefixPattern(prefix) {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

function assertRunPrefix(prefix) {
  // never the services' default namespace, never everything
  if (typeof prefix !== 'string' || prefix.length < 8 || prefix === 'payrail:') throw new Error(`refusing to delete the keys under ${JSON.stringify(prefix)}: not a run's prefix`);
}

/**
 * Deletes every key that starts with `prefix` (hash-tagged keys like <prefix>ledger:{m-1}:... too): SCAN MATCH
 * <prefix>* COUNT `batch`, each batch UNLINKed (while the next SCAN runs), never KEYS or FLUSHDB. Idempotent; stops
 * after `timeLimitMs` (complete: false, the rest stays for a later call). Returns { removed, complete, ms }, removed
 * being what UNLINK removed (a key already gone is not counted).
 */
export async function deleteKeysUnderPrefix(url, prefix, { batch = 1000, timeLimitMs = 60_000, timeoutMs = 10_000 } = {}) {
  assertRunPrefix(prefix);
  const started = Date.now();
  const connection = await openRedis(url, { timeoutMs });
  const prefixBytes = Buffer.from(prefix);
  let removed = 0;
  let cursor = '0';
  try {
    let unlinking = Promise.resolve(0);
    do {
      const [[next, keys], count] = await Promise.all([connection.command(['SCAN', cursor, 'MATCH', prefixPattern(prefix), 'COUNT', String(batch)]), unlinking]);
      removed += count;
      cursor = next.toString();
      const ours = keys.filter((key) => key.subarray(0, prefixBytes.length).equals(prefixBytes));
      unlinking = ours.length > 0 ? connection.command(['UNLINK', ...ours]) : Promise.resolve(0);
    } while (cursor !== '0' && Date.now() - started < timeLimitMs);
    removed += await unlinking;
  } finally {
    connection.close();
  }
  return { removed, complete: cursor === '0', ms: Date.now() - started };
}

const keysCount = (n) => `${n.toLocaleString('en-US')} key${n === 1 ? '' : 's'}`;
const duration = (ms) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

function recordFile(runDir, prefix) {
  return join(runDir, RECORDS, `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
}

/**
 * Records that this process writes under `prefix` on the Redis at `url` (before it writes any key), in
 * runDir/redis-prefixes/. Returns the claim: { prefix, url, release() }; release() deletes every key under the
 * prefix, logs how many, and forgets the record once nothing is left (a later run finishes what it could not).
 */
export function claimRunPrefix({ runDir, url, prefix }) {
  assertRunPrefix(prefix);
  const file = recordFile(runDir, prefix);
  mkdirSync(join(runDir, RECORDS), { recursive: true });
  const record = { prefix, url, owner: { pid: process.pid, started: processStartTime(process.pid) }, claimed_at: new Date().toISOString() };
  // mode 0600: the URL may carry a password; written whole or not at all (a run reading it meanwhile sees no half)
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  let released;
  return {
    prefix,
    url,
    file,
    release: (options) => (released ??= removeRecordedKeys(file, record, options)),
  };
}

async function removeRecordedKeys(file, record, { why = '', timeLimitMs, keepRecord = false } = {}) {
  try {
    const result = await deleteKeysUnderPrefix(record.url, record.prefix, { timeLimitMs });
    const removed = `redis: removed ${keysCount(result.removed)} under ${record.prefix}${why} in ${duration(result.ms)}`;
    if (result.complete) {
      if (!keepRecord) rmSync(file, { force: true });
      log(removed);
    } else {
      log(`${removed}, not all of them (time limit): the next run removes the rest`);
    }
    return result;
  } catch (err) {
    if (Date.now() - Date.parse(record.claimed_at) > UNREACHABLE_FOR_MS) {
      rmSync(file, { force: true });
      log(`redis: forgot ${record.prefix} at ${redact(record.url)}${why}: that Redis has not answered for 7 days (${err.message})`);
    } else {
      log(`redis: could not remove the keys under ${record.prefix} at ${redact(record.url)}${why} (${err.message}); the next run tries again`);
    }
    return { removed: 0, complete: false, ms: 0, error: err };
  }
}

function ownerAlive(owner) {
  if (!owner || !isAlive(owner.pid)) return false;
  if (owner.started === undefined) return true;
  const started = processStartTime(owner.pid);
  return started === undefined || started === owner.started; // a different start time: the pid was reused
}

/**
 * Removes the keys of every run under payrailDir (.payrail: one folder per run) whose recording process is gone
 * (killed, or it could not finish removing them). The record of a run whose services still run stays (they may
 * write more) until those are stopped too: the next run of that name stops them (PidRegistry). Bounded by
 * timeLimitMs in all. Returns [{ prefix, removed, complete }].
 */
export async function cleanAbandonedPrefixes(payrailDir, { timeLimitMs = 60_000 } = {}) {
  const results = [];
  if (!existsSync(payrailDir)) return results;
  const deadline = Date.now() + timeLimitMs;
  for (const entry of readdirSync(payrailDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const runDir = join(payrailDir, entry.name);
    const dir = join(runDir, RECORDS);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(dir, name);
      let record;
      try {
        record = JSON.parse(readFileSync(file, 'utf8'));
        assertRunPrefix(record.prefix);
      } catch {
        rmSync(file, { force: true });
        continue;
      }
      if (ownerAlive(record.owner)) continue;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return results; // bounded: the next run goes on
      const why = ` (left by run '${basename(runDir)}', pid ${record.owner?.pid}, which stopped without removing them)`;
      // its services still run and may write more: the record stays for the run that stops them
      const keepRecord = liveRecordedProcesses(runDir).length > 0;
      const result = await removeRecordedKeys(file, record, { why, timeLimitMs: remaining, keepRecord });
      results.push({ prefix: record.prefix, removed: result.removed, complete: result.complete });
    }
  }
  return results;
}

// ---- Redis for the local stack ---------------------------------------------------------------------------------

/**
 * Returns { url, started, stop }. `started` is false when an existing Redis (REDIS_URL, or the default
 * 127.0.0.1:6379 when allowDefault) was reused; then stop() does nothing and the caller writes under a key prefix of
 * its own (claimRunPrefix) whose keys it removes when it stops.
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

// ---- a Redis Cluster of local redis-server processes -------------------------------------------------------------

/** The fields of CLUSTER NODES: one { id, address, port, flags, master, connected, slots } per node. */
export function parseClusterNodes(text) {
  return String(text)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, addr, flags, master, , , , link, ...slots] = line.trim().split(' ');
      const address = addr.split('@')[0];
      return { id, address, port: Number(address.split(':').pop()), flags: flags.split(','), master: master === '-' ? undefined : master, connected: link === 'connected', slots };
    });
}

/** Slots a node serves, from its CLUSTER NODES ranges ("0-5460", "5461"). */
export function slotCount(slots) {
  let n = 0;
  for (const range of slots) {
    if (range.startsWith('[')) continue; // a slot being migrated
    const [from, to = from] = range.split('-').map(Number);
    n += to - from + 1;
  }
  return n;
}

/**
 * Starts `masters` masters with `replicasPerMaster` replicas each (redis-server processes with cluster-enabled, no
 * persistence, on free loopback ports), joins them with `redis-cli --cluster create`, and waits until every node
 * reports cluster_state:ok with all 16,384 slots served. Returns { seeds (host:port list), nodes, topology(),
 * kill(port), restart(port), waitHealthy(), stop() }. Failover is Redis Cluster's own: kill a master and its replica
 * is promoted after cluster-node-timeout (default 2,000 ms here).
 */
export async function startRedisCluster({ runDir, masters = 3, replicasPerMaster = 1, nodeTimeoutMs = 2000, password } = {}) {
  const probe = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error('redis-cli is not installed: a local Redis Cluster needs redis-server and redis-cli (apt-get install redis-server)');
  const dir = join(runDir, 'redis-cluster');
  rmSync(dir, { recursive: true, force: true });
  const count = masters * (1 + replicasPerMaster);
  const ports = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const pids = new Map();
  const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
  const launch = async (port) => {
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs),
        '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0', '--dir', nodeDir, '--logfile', join(nodeDir, 'redis.log'), ...auth],
      { stdio: 'ignore', detached: true },
    );
    child.unref();
    await waitForPort(port, { timeoutMs: 15_000, process: child, what: `redis-server (cluster node ${port})` });
    pids.set(port, child.pid);
    return child.pid;
  };
  const stopPid = async (pid, signal) => {
    try { process.kill(pid, signal); } catch { return; }
    if (!(await waitForExit(pid, 5000))) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  };
  const url = (port) => (password ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`);
  const onNode = async (port, args) => {
    const c = await openRedis(url(port), { timeoutMs: 3000 });
    try { return await c.command(args); } finally { c.close(); }
  };
  const cluster = {
    seeds: ports.map((p) => `127.0.0.1:${p}`),
    ports,
    pids,
    /** CLUSTER NODES as one live node sees it. */
    async topology() {
      for (const port of ports) {
        if (!pids.has(port)) continue;
        try { return parseClusterNodes(String(await onNode(port, ['CLUSTER', 'NODES']))); } catch { /* ask the next */ }
      }
      throw new Error('no cluster node answers');
    },
    /**
     * Until every live node says cluster_state:ok, live masters serve all 16,384 slots, and at least `minReplicas`
     * live replicas follow them (default: all of them, as created; after a kill, pass what is left).
     */
    async waitHealthy(timeoutMs = 30_000, minReplicas = masters * replicasPerMaster) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        try {
          const states = await Promise.all([...pids.keys()].map(async (port) => /cluster_state:ok/.test(String(await onNode(port, ['CLUSTER', 'INFO'])))));
          const nodes = await cluster.topology();
          // served by masters that are alive (a killed master keeps its slots in the table until its replica is promoted)
          const masterNodes = nodes.filter((n) => n.flags.includes('master') && pids.has(n.port) && !n.flags.includes('fail') && !n.flags.includes('fail?'));
          const served = masterNodes.reduce((s, n) => s + slotCount(n.slots), 0);
          const serving = masterNodes.filter((n) => slotCount(n.slots) > 0).map((n) => n.id);
          // a replica counts once its link to the master is up (synced): before that it could not take over
          const following = nodes.filter((n) => n.flags.includes('slave') && pids.has(n.port) && serving.includes(n.master ?? ''));
          const linked = await Promise.all(following.map(async (n) => /master_link_status:up/.test(String(await onNode(n.port, ['INFO', 'replication'])))));
          const replicas = linked.filter(Boolean).length;
          if (states.every(Boolean) && served === 16384 && replicas >= minReplicas) return nodes;
          last = `states ${states.join(',')}, ${served} slots served, ${replicas} replicas`;
        } catch (err) {
          last = err.message;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`the Redis Cluster did not become healthy within ${timeoutMs} ms (${last})`);
    },
    /** SIGKILLs one node (a master: its replica takes over after cluster-node-timeout). */
    async kill(port) {
      const pid = pids.get(port);
      pids.delete(port);
      if (pid) await stopPid(pid, 'SIGKILL');
    },
    /** Starts a killed node again on its port and config: it rejoins (a former master comes back as a replica). */
    async restart(port) {
      return launch(port);
    },
    async stop() {
      await Promise.all([...pids.values()].map((pid) => stopPid(pid, 'SIGTERM')));
      pids.clear();
    },
  };
  try {
    for (const port of ports) await launch(port);
    const create = spawnSync('redis-cli', [...(password ? ['-a', password, '--no-auth-warning'] : []), '--cluster', 'create', ...cluster.seeds, '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'], { encoding: 'utf8', timeout: 60_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${(create.stdout + create.stderr).trim().split('\n').slice(-5).join(' | ')}`);
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
