import type { z } from 'zod';
import { ProblemException } from '@payrail/platform';

/** Parses request input with a zod schema; failure is RFC 9457 problem+json naming each field (JSON Pointer). */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown, where: 'query' | 'path', field?: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({ pointer: `#/${where}/${[field, ...issue.path].filter((p) => p !== undefined).join('/')}`, detail: issue.message }));
  throw new ProblemException(400, `invalid-${where}`, where === 'query' ? 'Invalid query parameters' : 'Invalid path parameter', errors.map((e) => `${e.pointer}: ${e.detail}`).join('; '), { errors });
}
