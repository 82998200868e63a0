import { InMemoryReplayStore } from './replay-store';

describe('InMemoryReplayStore', () => {
  it('claims an id once within its TTL, again after it', async () => {
    let now = 0;
    const s = new InMemoryReplayStore({ now: () => now });
    expect(await s.claimOnce('a', 10)).toBe(true);
    expect(await s.claimOnce('a', 10)).toBe(false);
    expect(await s.claimOnce('b', 10)).toBe(true);
    now = 9_999;
    expect(await s.claimOnce('a', 10)).toBe(false);
    now = 10_000;
    expect(await s.claimOnce('a', 10)).toBe(true);
  });

  it('forgets expired entries and refuses to grow past its cap', async () => {
    let now = 0;
    const s = new InMemoryReplayStore({ now: () => now, maxEntries: 3 });
    for (const id of ['a', 'b', 'c']) expect(await s.claimOnce(id, 1)).toBe(true);
    await expect(s.claimOnce('d', 1)).rejects.toThrow(/full/);
    now = 1_000;
    expect(await s.claimOnce('d', 1)).toBe(true);
    expect(s.size()).toBe(1);
  });

  it('answers concurrent claims of one id exactly once', async () => {
    const s = new InMemoryReplayStore();
    const answers = await Promise.all(Array.from({ length: 20 }, () => s.claimOnce('same', 60)));
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('validates its arguments', async () => {
    const s = new InMemoryReplayStore();
    await expect(s.claimOnce('', 1)).rejects.toThrow(TypeError);
    await expect(s.claimOnce('a', 0)).rejects.toThrow(TypeError);
  });
});
