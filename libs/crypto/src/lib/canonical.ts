// RFC 8785 (JCS) canonical JSON in one validating pass: members sorted by UTF-16 code units, numbers and strings
// as ECMAScript serialises them (JSON.stringify), no whitespace. Tests hold it byte-equal to the `canonicalize`
// package (the reference), which is slower on the signing path and silently emits invalid JSON for functions
// (`{"f":undefined}`) and `{}` for Map/Set: a payment that cannot be represented exactly is a bug to surface, not
// to sign.

const MAX_DEPTH = 64;

class CanonicalError extends TypeError {}

function reject(what: string): never {
  throw new CanonicalError(what);
}

// `path` is the stack of member names / indexes, kept only so an error can say where (push/pop is cheaper than
// building path strings or try/catch per member).
function write(v: unknown, path: Array<string | number>, open: object[]): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) reject(String(v));
      return JSON.stringify(v); // ECMAScript Number::toString, -0 as 0: what JCS specifies
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return 'null';
      break;
    default:
      reject(typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`);
  }
  const obj = v as Record<string, unknown>;
  if (path.length > MAX_DEPTH) reject(`nesting deeper than ${MAX_DEPTH}`);
  const isArray = Array.isArray(obj);
  if (!isArray) {
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      if (obj instanceof Map || obj instanceof Set || obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof ArrayBuffer || ArrayBuffer.isView(obj) || obj instanceof Promise) {
        reject(`a ${obj.constructor.name}`);
      }
    }
  }
  const toJson = obj['toJSON'];
  if (typeof toJson === 'function') {
    const replaced: unknown = toJson.call(obj); // Date and friends
    if (replaced === obj) reject('a toJSON returning itself');
    return write(replaced, path, open);
  }
  if (open.includes(obj)) reject('a cycle');
  open.push(obj);
  let out: string;
  if (isArray) {
    const arr = obj as unknown as unknown[];
    out = '[';
    for (let i = 0; i < arr.length; i++) {
      path.push(i);
      out += i === 0 ? write(arr[i], path, open) : `,${write(arr[i], path, open)}`;
      path.pop();
    }
    out += ']';
  } else {
    const keys = Object.keys(obj).sort();
    out = '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const member = obj[k];
      if (member === undefined) continue; // like JSON.stringify: an undefined member is absent
      path.push(k);
      out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${write(member, path, open)}`;
      path.pop();
    }
    out += '}';
  }
  open.pop();
  return out;
}

/** RFC 8785 canonical JSON. Throws TypeError (naming the path, not the value) on values JSON cannot carry exactly. */
export function canonicalJson(value: unknown): string {
  const path: Array<string | number> = [];
  try {
    return write(value, path, []);
  } catch (e) {
    if (e instanceof CanonicalError) {
      const where = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
      throw new TypeError(`canonicalJson: ${e.message} at $${where} cannot be represented in JSON`);
    }
    throw e;
  }
}
