// deploy/local/redis.mjs against the real Redis (REDIS_URL, default 127.0.0.1:6379): a run's keys are removed by
// prefix (SCAN + UNLINK), counted exactly, and nothing else is touched; a run that was killed has its keys removed by
// the next run. Every key written here is under PAYRAIL_RUN_KEY_PREFIX (the integration layer's run prefix).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, createRedis } from '@payrail/messaging';
import { claimRunPrefix, cleanAbandonedPrefixes, deleteKeysUnderPrefix } from './local/redis.mjs';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const base = `${process.env['PAYRAIL_RUN_KEY_PREFIX'] ?? 'payrail-test:'}local-redis-${randomBytes(3).toString('hex')}:`;
const redisModule = join(__dirname, 'local', 'redis.mjs');

let redis: Redis;
const dirs: string[] = [];
const children: number[] = [];

beforeAll(async () => {
  redis = createRedis({ url, keyPrefix: '' }, 'payrail-int-local-redis');
  await redis.connect();
});

afterAll(async () => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await deleteKeysUnderPrefix(url, base);
  await redis.quit();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'payrail-local-redis-'));
  dirs.push(dir);
  return dir;
}

/** Writes `count` keys under the prefix, of several types, a third with a Redis Cluster hash tag; returns their number. */
async function writeKeys(prefix: string, count: number): Promise<number> {
  for (let start = 0; start < count; start += 1_000) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(count, start + 1_000); i++) {
      if (i % 3 === 0) pipeline.set(`${prefix}ledger:{m-${i % 41}}:batch:${i}`, '1');
      else if (i % 3 === 1) pipeline.hset(`${prefix}idem:${i}`, 'state', 'done');
      else pipeline.sadd(`${prefix}set:${i}`, 'a', 'b');
    }
    await pipeline.exec();
  }
  return count;
}

async function countUnder(prefix: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    n += keys.filter((k) => k.startsWith(prefix)).length;
  } while (cursor !== '0');
  return n;
}

/** Runs claimRunPrefix in a process of its own that writes keys under the prefix and then waits to be killed. */
async function runThatIsKilled(runDir: string, prefix: string, keys: number): Promise<number> {
  const script = `
    const { claimRunPrefix, openRedis } = await import(${JSON.stringify(redisModule)});
    claimRunPrefix({ runDir: ${JSON.stringify(runDir)}, url: ${JSON.stringify(url)}, prefix: ${JSON.stringify(prefix)} });
    const c = await openRedis(${JSON.stringify(url)});
    await Promise.all(Array.from({ length: ${keys} }, (_, i) => c.command(['SET', ${JSON.stringify(prefix)} + (i % 2 ? 'ledger:{m-' + (i % 7) + '}:' : 'k:') + i, 'v'])));
    process.stdout.write('ready\\n');
    setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = child.pid ?? 0;
  children.push(pid);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the run exited (${code}) before it was ready`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(pid, 'SIGKILL');
  await exited;
  return pid;
}

describe('deleteKeysUnderPrefix', () => {
  it('removes every key under the prefix (hash-tagged ones too), says how many, and nothing else', async () => {
    const prefix = `${base}run-a:`;
    const other = `${base}run-b:`;
    const written = await writeKeys(prefix, 12_345);
    await writeKeys(other, 500);
    // keys that contain the prefix, or most of it, but do not start with it
    await redis.set(`${base}x${prefix}`, '1');
    await redis.set(prefix.slice(0, -1), '1');
    await redis.set(`${prefix.slice(0, -1)}-sibling:1`, '1');

    const result = await deleteKeysUnderPrefix(url, prefix);
    expect(result).toEqual({ removed: written, complete: true, ms: expect.any(Number) });
    expect(await countUnder(prefix)).toBe(0);
    expect(await countUnder(other)).toBe(500);
    expect(await redis.exists(`${base}x${prefix}`, prefix.slice(0, -1), `${prefix.slice(0, -1)}-sibling:1`)).toBe(3);

    // idempotent: nothing left to remove
    expect((await deleteKeysUnderPrefix(url, prefix)).removed).toBe(0);
  });

  it('stops at its time limit and the next call removes the rest: the counts add up to what was written', async () => {
    const prefix = `${base}slow:`;
    const written = await writeKeys(prefix, 5_000);
    const first = await deleteKeysUnderPrefix(url, prefix, { batch: 100, timeLimitMs: 0 });
    expect(first.complete).toBe(false);
    expect(first.removed).toBeLessThan(written);
    const second = await deleteKeysUnderPrefix(url, prefix);
    expect(second.complete).toBe(true);
    expect(first.removed + second.removed).toBe(written);
    expect(await countUnder(prefix)).toBe(0);
  });

  it('refuses a prefix that is not a run\'s (empty, or the services\' default payrail:)', async () => {
    await expect(deleteKeysUnderPrefix(url, '')).rejects.toThrow(/not a run's prefix/);
    await expect(deleteKeysUnderPrefix(url, 'payrail:')).rejects.toThrow(/not a run's prefix/);
  });
});

describe('a run\'s claim on a prefix', () => {
  it('is recorded before anything is written; release() removes the keys, logs how many in one line and forgets the record', async () => {
    const runDir = tempDir();
    const claim = claimRunPrefix({ runDir, url, prefix: `${base}claimed:` });
    expect(existsSync(claim.file)).toBe(true);
    expect(statSync(claim.file).mode & 0o777).toBe(0o600); // the URL may carry a password
    const written = await writeKeys(claim.prefix, 2_500);

    const lines: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    let result;
    try {
      result = await claim.release();
    } finally {
      spy.mockRestore();
    }
    expect(result.removed).toBe(written);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^\\[payrail\\] redis: removed 2,500 keys under ${claim.prefix} in \\d+( ms|\\.\\d s)\\n$`))]);
    expect(existsSync(claim.file)).toBe(false);
    expect(await countUnder(claim.prefix)).toBe(0);
  });
});

describe('cleanAbandonedPrefixes: the next run removes the keys of a run that was killed', () => {
  it('removes a killed run\'s keys and record; a live run\'s keys and record stay', async () => {
    const payrailDir = tempDir();
    const dead = `${base}killed:`;
    const pid = await runThatIsKilled(join(payrailDir, 'once'), dead, 3_000);
    expect(await countUnder(dead)).toBe(3_000);
    const live = claimRunPrefix({ runDir: join(payrailDir, 'start'), url, prefix: `${base}alive:` }); // this process: alive
    await writeKeys(live.prefix, 300);

    const results = await cleanAbandonedPrefixes(payrailDir);
    expect(results).toEqual([{ prefix: dead, removed: 3_000, complete: true }]);
    expect(await countUnder(dead)).toBe(0);
    expect(existsSync(join(payrailDir, 'once', 'redis-prefixes'))).toBe(true);
    expect(existsSync(join(payrailDir, 'once', 'redis-prefixes', `${dead.replace(/[^A-Za-z0-9_-]/g, '_')}.json`))).toBe(false);
    expect(await countUnder(live.prefix)).toBe(300);
    expect(existsSync(live.file)).toBe(true);
    // a second pass has nothing to do
    expect(await cleanAbandonedPrefixes(payrailDir)).toEqual([]);
    expect(pid).toBeGreaterThan(0);

    await live.release();
  });

  it('keeps the record of a killed run whose services still run (they may write more) until they are gone', async () => {
    const payrailDir = tempDir();
    const runDir = join(payrailDir, 'bench');
    const dead = `${base}orphaned:`;
    await runThatIsKilled(runDir, dead, 200);
    // one of its services, still running (recorded like the stack records them)
    const service = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)', 'payrail-test-service'], { stdio: 'ignore' });
    children.push(service.pid ?? 0);
    mkdirSync(join(runDir, 'pids'), { recursive: true });
    writeFileSync(join(runDir, 'pids', 'settlement.json'), JSON.stringify({ pid: service.pid, marker: 'payrail-test-service' }));

    expect(await cleanAbandonedPrefixes(payrailDir)).toEqual([{ prefix: dead, removed: 200, complete: true }]);
    await redis.set(`${dead}written-later`, '1'); // what the orphaned service wrote after that
    const exited = new Promise((resolve) => service.once('exit', resolve));
    service.kill('SIGKILL');
    await exited;
    expect(await cleanAbandonedPrefixes(payrailDir)).toEqual([{ prefix: dead, removed: 1, complete: true }]);
    expect(await cleanAbandonedPrefixes(payrailDir)).toEqual([]);
  });
});
