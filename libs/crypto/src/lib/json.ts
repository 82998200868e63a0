// JSON helpers for untrusted input. JSON.parse keeps the last of duplicate members, other parsers keep the
// first: a token whose header or payload has duplicates can mean different things to different services,
// so duplicates are refused outright (RFC 7515 section 5.2 permits this).

export const MAX_JSON_DEPTH = 32;

export type JsonObject = Record<string, unknown>;

export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Scans JSON text that JSON.parse already accepted. Returns 'duplicate' when an object repeats a member name
 * (after unescaping), 'depth' when nesting exceeds maxDepth, otherwise null. One pass, no allocation per value.
 */
export function scanJson(text: string, maxDepth = MAX_JSON_DEPTH): 'duplicate' | 'depth' | null {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      if (expectKey) {
        const top = stack[stack.length - 1];
        if (top) {
          const raw = text.slice(start, i + 1);
          const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
          if (top.has(key)) return 'duplicate';
          top.add(key);
        }
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      if (stack.length > maxDepth) return 'depth';
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      if (stack.length > maxDepth) return 'depth';
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return null;
}

/** Parses untrusted JSON; undefined when invalid, duplicated or too deep. */
export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value === 'object' && value !== null && scanJson(text, maxDepth) !== null) return undefined;
  return value;
}
