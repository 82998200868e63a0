import { BlocklistChanged } from '@payrail/contracts';
import { restoredStreamIds } from '@payrail/messaging';
import { blocklistChange, latestPerEntry, toReplayedChange } from './blocklist-journal';

const by = (at: string, request_id: string, reason?: string) => ({ operator: 'ops.jane', at, request_id, reason });

describe('blocklist journal', () => {
  it('keeps the latest change of each entry whatever order it was read in, a removal included', () => {
    const first = blocklistChange('ip', '203.0.113.7', 'put', by('2025-03-01T09:00:00.000Z', 'r1', 'first'));
    const removal = blocklistChange('ip', '203.0.113.7', 'removed', by('2025-03-01T10:00:00.000Z', 'r2'));
    const other = blocklistChange('bin', '5353', 'put', by('2025-03-01T08:00:00.000Z', 'r0'));
    const latest = (changes: BlocklistChanged[]) => latestPerEntry(changes).sort((a, b) => a.entry_id.localeCompare(b.entry_id));
    expect(latest([first, removal, other])).toEqual([other, removal]);
    expect(latest([removal, other, first, removal])).toEqual([other, removal]);
  });

  it('turns a change into what Redis applies, versioned by time then request id', () => {
    const put = toReplayedChange(blocklistChange('card', 'fp_6b1f0c2e9a7d4e3b8c5a1f0e', 'put', by('2025-03-01T09:00:00.000Z', 'r1', 'fraud ring')));
    expect(put).toEqual({ list: 'card', version: '2025-03-01T09:00:00.000Z|r1', change: 'put', entry: { value: 'fp_6b1f0c2e9a7d4e3b8c5a1f0e', reason: 'fraud ring', added_by: 'ops.jane', added_at: '2025-03-01T09:00:00.000Z' } });
    expect(toReplayedChange(blocklistChange('bin', '5353', 'removed', by('2025-03-01T09:00:00.000Z', 'r2')))).toEqual({ list: 'bin', version: '2025-03-01T09:00:00.000Z|r2', change: 'removed', value: '5353' });
  });

  it('gives restored audit entries increasing stream ids from their times', () => {
    const at = (iso: string) => ({ request_id: 'r', at: iso, operator: 'o', role: 'read' as const, action: 'a', target: 't', outcome: 'ok' });
    const ms = Date.parse('2025-03-01T09:00:00.000Z');
    expect(restoredStreamIds([at('2025-03-01T09:00:00.000Z'), at('2025-03-01T09:00:00.000Z'), at('2025-03-01T08:00:00.000Z'), at('2025-03-01T09:00:00.001Z')].map((e) => e.at))).toEqual([`${ms}-0`, `${ms}-1`, `${ms}-2`, `${ms + 1}-0`]);
  });
});
