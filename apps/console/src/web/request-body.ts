import { z } from 'zod';
import { ProblemException } from '@payrail/platform';

/** Parses a JSON request body; a bad one is answered 422 problem+json naming every offending field. */
export function parseRequestBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((i) => ({ pointer: `#/${i.path.join('/')}`, detail: i.message }));
  throw new ProblemException(422, 'invalid-request', 'Invalid request', errors.map((e) => `${e.pointer}: ${e.detail}`).join('; '), { errors });
}
