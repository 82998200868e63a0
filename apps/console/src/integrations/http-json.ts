import { z } from 'zod';
import { IntegrationError } from './ports';

export interface JsonCall {
  readonly method?: 'GET' | 'POST';
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

/** One JSON call to another service: bounded in time and size, no redirects, the token never in an error. */
export async function callJson(source: string, url: string, call: JsonCall = {}, fetchImpl: typeof fetch = fetch): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: call.method ?? 'GET',
      redirect: 'error',
      signal: AbortSignal.timeout(call.timeoutMs ?? 5_000),
      headers: {
        accept: 'application/json, application/problem+json',
        ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
        ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...call.headers,
      },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
    });
  } catch (err) {
    throw new IntegrationError(source, `unreachable (${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message})`);
  }
  const text = await res.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new IntegrationError(source, 'response too large');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new IntegrationError(source, `answered ${res.status} with a body that is not JSON`);
  }
  return { status: res.status, body };
}

/** Parses a response body, naming the first field that does not fit. */
export function parseBody<S extends z.ZodType>(source: string, schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new IntegrationError(source, `unexpected response: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
}
