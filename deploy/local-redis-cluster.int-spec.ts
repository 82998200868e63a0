// deploy/local/redis.mjs startRedisCluster against real redis-server processes: three masters with one replica each
// serve all 16,384 slots; a client reaches keys on every master; a killed master's replica takes over with the
// (replicated) data, the killed node comes back as a replica; stop() leaves no process behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { LocalRedisCluster, slotCount, startRedisCluster } from './local/redis.mjs';

const runDir = mkdtempSync(join(tmpdir(), 'payrail-redis-cluster-'));
let cluster: LocalRedisCluster | undefined;
let client: Cluster | undefined;

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
  rmSync(runDir, { recursive: true, force: true });
});

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a local Redis Cluster (startRedisCluster)', () => {
  it('serves every slot from 3 masters with a replica each, fails over a killed master with its data, and stops cleanly', async () => {
    const started = await startRedisCluster({ runDir, masters: 3, replicasPerMaster: 1 });
    cluster = started;
    const nodes = await started.topology();
    const masters = nodes.filter((n) => n.flags.includes('master'));
    expect(masters).toHaveLength(3);
    expect(masters.reduce((n, m) => n + slotCount(m.slots), 0)).toBe(16384);
    for (const master of masters) expect(nodes.filter((n) => n.master === master.id)).toHaveLength(1);

    // keys on every master (hash tags pick the slot), replicated before the kill
    const [first] = started.seeds;
    const [host = '127.0.0.1', port = '0'] = (first ?? '').split(':');
    client = new Cluster([{ host, port: Number(port) }], { clusterRetryStrategy: (times) => Math.min(100 * times, 1000) });
    const tags = Array.from({ length: 60 }, (_, i) => `{merchant-${i}}`);
    for (const tag of tags) await client.set(`${tag}:balance`, String(tags.indexOf(tag)));
    const slotOwners = new Set(await Promise.all(tags.map(async (tag) => (await client?.cluster('KEYSLOT', `${tag}:balance`)) ?? 0))).size;
    expect(slotOwners).toBeGreaterThan(3);
    // WAIT on the connections that wrote: every master's replica has the writes
    for (const node of client.nodes('master')) expect(await node.call('WAIT', '1', '10000')).toBe(1);

    const victim = masters[0];
    if (!victim) throw new Error('no master');
    const victimReplica = nodes.find((n) => n.master === victim.id);
    await started.kill(victim.port);
    const after = await started.waitHealthy(60_000, 2);
    const promoted = after.find((n) => n.id === victimReplica?.id);
    expect(promoted?.flags).toContain('master');
    expect(slotCount(promoted?.slots ?? [])).toBe(slotCount(victim.slots));
    for (const [i, tag] of tags.entries()) expect(await client.get(`${tag}:balance`)).toBe(String(i));

    await started.restart(victim.port);
    const healed = await started.waitHealthy(60_000, 3);
    expect(healed.find((n) => n.port === victim.port)?.flags).toContain('slave');

    const pids = [...started.pids.values()];
    client.disconnect();
    client = undefined;
    await started.stop();
    cluster = undefined;
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
