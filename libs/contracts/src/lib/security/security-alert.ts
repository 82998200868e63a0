import { z } from 'zod';

/** Raised when something cryptographic fails where it must not (e.g. a Payrail signature that does not verify). */
export const SecurityAlertSchema = z.object({
  alert: z.enum(['signature_invalid', 'key_unknown', 'replay_detected']),
  service: z.string().min(1),
  payment_id: z.string().optional(),
  kid: z.string().optional(),
  detail: z.string().max(1000),
  raised_at: z.iso.datetime({ offset: true }),
});
export type SecurityAlert = z.infer<typeof SecurityAlertSchema>;
