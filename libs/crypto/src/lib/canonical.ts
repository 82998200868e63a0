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

function withPath<T>(run: (path: Array<string | number>) => T): T {
  const path: Array<string | number> = [];
  try {
    return run(path);
  } catch (e) {
    if (e instanceof CanonicalError) {
      const where = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
      throw new TypeError(`canonicalJson: ${e.message} at $${where} cannot be represented in JSON`);
    }
    throw e;
  }
}

/** RFC 8785 canonical JSON. Throws TypeError (naming the path, not the value) on values JSON cannot carry exactly. */
export function canonicalJson(value: unknown): string {
  return withPath((path) => write(value, path, []));
}

/** Index of `name` in the sorted `names`, or where it would go (UTF-16 code unit order, as Array#sort). */
function position(names: readonly string[], name: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((names[mid] as string) < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The RFC 8785 canonical JSON of a plain object, kept member by member (sorted), so that the same object with a
 * member added, replaced or removed is canonical without writing the other members again: a seal covers an event
 * without its `seal` member, and signing signs that same payment plus `signed_at` (one canonicalisation for both).
 * Only made by canonicalising (`of`), so `json` is always canonical; `T` is the shape of the object it stands for.
 * `json` is byte-equal to canonicalJson of the corresponding object (unit tests).
 */
export class CanonicalObject<T extends object = Record<string, unknown>> {
  /** The object shape this JSON stands for (types only). */
  declare readonly shape?: T;
  readonly #names: readonly string[];
  /** `"name":value`, in the order of #names */
  readonly #members: readonly string[];
  #json: string | undefined;

  private constructor(names: readonly string[], members: readonly string[]) {
    this.#names = names;
    this.#members = members;
  }

  /** A plain object (prototype Object or null, no toJSON); throws TypeError like canonicalJson otherwise. */
  static of<T extends object>(value: T): CanonicalObject<T> {
    return withPath((path) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) reject('not a plain object');
      const proto: unknown = Object.getPrototypeOf(value);
      const obj = value as Record<string, unknown>;
      if ((proto !== Object.prototype && proto !== null) || typeof obj['toJSON'] === 'function') reject('not a plain object');
      const names: string[] = [];
      const members: string[] = [];
      const open: object[] = [obj];
      for (const k of Object.keys(obj).sort()) {
        const member = obj[k];
        if (member === undefined) continue; // like canonicalJson: an undefined member is absent
        path.push(k);
        members.push(`${JSON.stringify(k)}:${write(member, path, open)}`);
        path.pop();
        names.push(k);
      }
      return new CanonicalObject<T>(names, members);
    });
  }

  /** The object with member `name` set to `value` (added, or replacing the one it had; undefined removes it). */
  with<K extends string, V>(name: K, value: V): CanonicalObject<Omit<T, K> & Record<K, V>> {
    if (value === undefined) return this.without(name) as unknown as CanonicalObject<Omit<T, K> & Record<K, V>>;
    const member = withPath((path) => {
      path.push(name);
      return `${JSON.stringify(name)}:${write(value, path, [])}`;
    });
    const at = position(this.#names, name);
    const replaces = this.#names[at] === name ? 1 : 0;
    const names = [...this.#names];
    const members = [...this.#members];
    names.splice(at, replaces, name);
    members.splice(at, replaces, member);
    return new CanonicalObject(names, members);
  }

  /** The object without member `name`. */
  without<K extends string>(name: K): CanonicalObject<Omit<T, K>> {
    const at = position(this.#names, name);
    if (this.#names[at] !== name) return this as unknown as CanonicalObject<Omit<T, K>>;
    const names = [...this.#names];
    const members = [...this.#members];
    names.splice(at, 1);
    members.splice(at, 1);
    return new CanonicalObject(names, members);
  }

  /** The canonical JSON text. */
  get json(): string {
    return (this.#json ??= `{${this.#members.join(',')}}`);
  }
}
