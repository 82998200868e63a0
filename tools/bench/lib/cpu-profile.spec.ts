import { CpuProfile, areaOf, summariseProfile } from './cpu-profile';

describe('areaOf', () => {
  it.each([
    ['(idle)', '', '(idle)'],
    ['(garbage collector)', '', 'gc'],
    ['(program)', '', 'v8 (program)'],
    ['sign', '', 'native'],
    ['encode', 'file:///srv/node_modules/kafkajs/src/protocol/encoder.js', 'kafkajs'],
    ['parse', 'file:///srv/node_modules/@nestjs/core/router/router-execution-context.js', '@nestjs/core'],
    ['writeGeneric', 'node:internal/stream_base_commons', 'node:internal'],
    ['emit', 'node:events', 'node:events'],
    ['screen', 'file:///srv/dist/apps/fraud-check/main.js', 'payrail'],
  ])('%s at %s is %s', (fn, url, area) => {
    expect(areaOf(fn, url)).toBe(area);
  });
});

describe('summariseProfile', () => {
  const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('encode', 'file:///srv/node_modules/kafkajs/src/protocol/encoder.js', 9) },
      { id: 4, callFrame: frame('screen', 'file:///srv/dist/apps/fraud-check/main.js', 99) },
      { id: 5, callFrame: frame('(garbage collector)') },
    ],
    startTime: 0,
    endTime: 10_000,
    // sample i stands for timeDeltas[i + 1]: idle 4 ms, kafkajs 3 ms, payrail 2 ms, gc 1 ms
    samples: [2, 2, 3, 4, 5, 3, 2, 2, 4, 3],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('gives busy time per area and the top functions as shares of busy time, idle excluded', () => {
    const summary = summariseProfile(profile, 2);
    expect(summary.sampled_ms).toBe(10);
    expect(summary.busy_ms).toBe(6);
    expect(summary.by_area).toEqual([
      { area: 'kafkajs', share: 0.5, ms: 3 },
      { area: 'payrail', share: 0.333, ms: 2 },
      { area: 'gc', share: 0.167, ms: 1 },
    ]);
    expect(summary.top_functions).toEqual([
      { function: 'encode node_modules/kafkajs/src/protocol/encoder.js:10', area: 'kafkajs', share: 0.5, ms: 3 },
      { function: 'screen dist/apps/fraud-check/main.js:100', area: 'payrail', share: 0.333, ms: 2 },
    ]);
  });

  it('falls back to hit counts over the profile time when there are no samples', () => {
    const summary = summariseProfile({ ...profile, samples: undefined, timeDeltas: undefined, nodes: profile.nodes.map((n) => ({ ...n, hitCount: n.id === 3 ? 3 : n.id === 2 ? 7 : 0 })) });
    expect(summary.busy_ms).toBe(3);
    expect(summary.by_area).toEqual([{ area: 'kafkajs', share: 1, ms: 3 }]);
  });
});
