import type { z } from 'zod';
import { ProblemException } from '@payrail/platform';

type Part = 'body' | 'query' | 'path';

/**
 * Parses one part of an admin request with its schema; on failure answers RFC 9457 problem+json naming each
 * field (a JSON Pointer: `#/note` in the body, `#/query/limit`, `#/path/list`): 422 for a body, 400 otherwise.
 */
export function parseRequestPart<S extends z.ZodType>(schema: S, value: unknown, part: Part): z.output<S> {
  const parsed = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  const prefix = part === 'body' ? '#' : `#/${part}`;
  const errors = parsed.error.issues.map((issue) => ({ pointer: [prefix, ...issue.path.map(String)].join('/'), detail: issue.message }));
  const first = errors[0];
  throw new ProblemException(
    part === 'body' ? 422 : 400,
    part === 'body' ? 'invalid-request-body' : 'invalid-request',
    part === 'body' ? 'Invalid request body' : 'Invalid request',
    first ? `${first.pointer}: ${first.detail}` : 'invalid request',
    { errors },
  );
}
