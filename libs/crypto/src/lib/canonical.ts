import canonicalize from 'canonicalize';

// RFC 8785 (JCS) through the `canonicalize` package. It silently emits invalid JSON for functions
// (`{"f":undefined}`) and turns Map/Set into `{}`, so the value is checked first: a payment that cannot be
// represented exactly is a bug to surface, not to sign.

const MAX_DEPTH = 64;

function fail(path: string, what: string): never {
  throw new TypeError(`canonicalJson: ${what} at ${path} cannot be represented in JSON`);
}

function check(value: unknown, path: string, depth: number, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, String(value));
      return;
    case 'undefined':
      fail(path, 'undefined');
      break;
    case 'bigint':
    case 'function':
    case 'symbol':
      fail(path, `a ${typeof value}`);
      break;
    case 'object': {
      if (value === null) return;
      if (depth > MAX_DEPTH) fail(path, `nesting deeper than ${MAX_DEPTH}`);
      if (ancestors.has(value)) fail(path, 'a cycle');
      if (value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet || value instanceof ArrayBuffer || ArrayBuffer.isView(value) || value instanceof Promise) {
        fail(path, `a ${value.constructor.name}`);
      }
      const withToJson = value as { toJSON?: unknown };
      if (typeof withToJson.toJSON === 'function') {
        check((withToJson.toJSON as () => unknown).call(value), path, depth + 1, ancestors);
        return;
      }
      ancestors.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) check(value[i], `${path}[${i}]`, depth + 1, ancestors);
      } else {
        for (const key of Object.keys(value)) {
          const member = (value as Record<string, unknown>)[key];
          // like JSON.stringify, an undefined member is simply absent
          if (member !== undefined) check(member, `${path}.${key}`, depth + 1, ancestors);
        }
      }
      ancestors.delete(value);
      return;
    }
  }
}

/** RFC 8785 canonical JSON: sorted members, ECMAScript number form, no whitespace. Throws TypeError on values JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  check(value, '$', 0, new Set());
  const out = canonicalize(value);
  if (out === undefined) fail('$', 'the value');
  return out;
}
