// One change to fraud-check's operator-maintained blocklists, as the durable record of it: the topic is compacted
// and keyed by the entry ("<list>:<value>"), so it keeps the latest change of every entry ever touched and a
// restart or a Redis loss rebuilds the lists from it. A removal is an event (change "removed"), not a tombstone:
// it keeps who removed the entry and when, and an entry removed is told apart from one never listed.
// Values are keyed fingerprints, BINs, IPs, countries and merchant ids: never a card or account number.
import { z } from 'zod';
import { freeText } from '../security/card-number-text';

export const BLOCKLIST_NAMES = ['card', 'account', 'bin', 'ip', 'country', 'merchant'] as const;
export const BlocklistNameSchema = z.enum(BLOCKLIST_NAMES);

const BlocklistValueSchema = z
  .string()
  .min(1)
  .max(128)
  .refine((v) => !/^[0-9]{12,34}$/.test(v) && !/^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$/.test(v), 'looks like a card or account number: blocklists hold fingerprints, never numbers');

export const BlocklistChangedSchema = z
  .object({
    /** "<list>:<value>": the message key, so compaction keeps the latest change of each entry. */
    entry_id: z.string().min(3).max(160),
    list: BlocklistNameSchema,
    value: BlocklistValueSchema,
    change: z.enum(['put', 'removed']),
    /** The operator's reason (put: why it is listed; removed: why it was lifted). */
    reason: freeText(z.string().max(500)).optional(),
    /** Operator id. */
    changed_by: z.string().min(1).max(128),
    /** When the operator made the change (ISO 8601, UTC): the latest change of an entry wins. */
    changed_at: z.string().datetime(),
    /** The admin API request that made the change. */
    request_id: z.string().min(1).max(128),
  })
  .refine((c) => c.entry_id === `${c.list}:${c.value}`, { message: 'entry_id must be "<list>:<value>"', path: ['entry_id'] });

export type BlocklistChanged = z.infer<typeof BlocklistChangedSchema>;
