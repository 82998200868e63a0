// Finding card and account numbers in what the system wrote: the exact numbers a test submitted, and anything that
// looks like a card number (a Luhn-valid run of 13-19 digits starting with 3, 4, 5 or 6, the card schemes' first
// digits), in decimal (with or without spaces and dashes) and inside base64, base64url and hex: standalone, and
// inside encoded envelopes (a JWS payload is base64url of JSON holding the number), decoded a few levels deep.
// Digit runs that continue a decimal fraction or another number, or sit inside a hex id, are not card-like
// (timestamps start with 1 or 2); the known numbers are looked for everywhere.
import { luhnValid, maskPan } from '@payrail/crypto';

/** Where a text came from ("kafka:payrail.payments.accepted.v1/3@17", "redis:payrail:payment:{id}", "log:ingest.log:12"). */
export interface WrittenText {
  where: string;
  text: string;
}

export const ENCODINGS = ['decimal', 'base64', 'base64url', 'hex'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export interface PlaintextFinding {
  where: string;
  kind: 'known-card' | 'known-account' | 'card-like';
  /** How the number was written: the outermost encoding ('decimal' when in plain text). */
  encoding: Encoding;
  /** The encodings decoded to reach it, outermost first (empty for plain text). */
  via: Encoding[];
  /** Masked (never more than the first 6 and last 4, nor half the digits): a failing test must not print the number. */
  masked: string;
}

// A card-like run of digits, except the value of an amount in minor units ("minor", "amount_minor", "sum_minor",
// ...: a velocity sum above 10^12 is a 13-digit number and passes the Luhn check one time in ten).
// The test's own numbers are found anywhere (substring); an unknown run must stand alone, not be glued to letters
// (a digit run inside a hex or base64url id or signature is part of that token).
const CARD_LIKE = /(?<![\dA-Za-z.])(?<!minor":")(?<!minor":)[3-6]\d{12,18}(?![\dA-Za-z])/g;

// Lower-case hex identifiers of 16 characters or more with at least one letter (W3C trace and span ids in log
// lines): a digit run inside one is part of an id, not a number.
const HEX_ID = /(?<![0-9A-Za-z])(?=[0-9a-f]*[a-f])[0-9a-f]{16,}(?![0-9A-Za-z])/g;

// A W3C traceparent (version-traceid-spanid-flags): its span id is 16 hex digits, all decimal about one time in 2,000.
const TRACEPARENT = /(?<![0-9A-Za-z])[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(?![0-9A-Za-z])/g;

// A UUID (payment ids, event ids): its first three groups are all decimal digits about one time in 1,850, and joined
// across their dashes they make a 16-digit run.
const UUID = /(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z])/g;

// Digits separated by single spaces or dashes ("4111 1111-1111 1111") joined up; other text unchanged.
const SEPARATED_DIGITS = /\d(?:[ -]\d)+/g;

// Candidate encoded runs: a base64 / base64url token (JWS and JWE segments are split on '.'), a hex token.
const BASE64_TOKEN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_TOKEN = /(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){8,}(?![0-9A-Fa-f])/g;

/** How deep encodings are unwrapped (base64url of JSON holding base64 of a number is 2). */
const MAX_DEPTH = 3;

export interface KnownNumbers {
  cards: readonly string[];
  accounts: readonly string[];
}

interface Layer {
  text: string;
  via: Encoding[];
}

function base64Kind(token: string): Encoding {
  if (/[-_]/.test(token)) return 'base64url';
  if (/[+/=]/.test(token)) return 'base64';
  return token.length % 4 === 0 ? 'base64' : 'base64url';
}

/** Decoded text worth scanning: mostly printable (random bytes of a JWE ciphertext or a hash are not). */
function printable(bytes: Buffer): string | undefined {
  if (bytes.length < 6) return undefined;
  const text = bytes.toString('utf8');
  let ok = 0;
  for (const ch of text) if (ch >= ' ' || ch === '\n' || ch === '\t' || ch === '\r') ok += ch === '\uFFFD' ? 0 : 1;
  return ok >= text.length * 0.9 ? text : undefined;
}

/** The text and every decodable encoded run inside it, recursively, with the encodings that led there. */
function layers(text: string, via: Encoding[] = [], out: Layer[] = []): Layer[] {
  out.push({ text, via });
  if (via.length >= MAX_DEPTH) return out;
  for (const [token] of text.matchAll(HEX_TOKEN)) {
    const decoded = printable(Buffer.from(token, 'hex'));
    if (decoded !== undefined) layers(decoded, [...via, 'hex'], out);
  }
  for (const [token] of text.matchAll(BASE64_TOKEN)) {
    if (/^[0-9A-Fa-f]+$/.test(token)) continue; // hex, handled above
    const decoded = printable(Buffer.from(token.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
    if (decoded !== undefined) layers(decoded, [...via, base64Kind(token)], out);
  }
  return out;
}

function findInLayer(where: string, layer: Layer, known: KnownNumbers): PlaintextFinding[] {
  const found: PlaintextFinding[] = [];
  const encoding: Encoding = layer.via[0] ?? 'decimal';
  const join = (text: string): string => text.replace(SEPARATED_DIGITS, (run) => run.replace(/[ -]/g, ''));
  const joined = join(layer.text);
  const texts = joined === layer.text ? [layer.text] : [layer.text, joined];
  // ids blanked out before digits separated by dashes are joined: a traceparent whose span id happens to be all
  // decimal digits ("00-<trace id>-4556...-01") must not become one 18-digit run with its flags, nor a UUID whose
  // first groups are ("66315697-3302-8169-ac7e-...") a 16-digit one
  const blanked = layer.text.replace(TRACEPARENT, (id) => ' '.repeat(id.length)).replace(UUID, (id) => ' '.repeat(id.length)).replace(HEX_ID, (id) => ' '.repeat(id.length));
  const blankedJoined = join(blanked);
  const cardLikeTexts = blankedJoined === blanked ? [blanked] : [blanked, blankedJoined];
  const seen = new Set<string>();
  const add = (kind: PlaintextFinding['kind'], number: string): void => {
    const id = `${kind}:${number}`;
    if (seen.has(id)) return;
    seen.add(id);
    found.push({ where, kind, encoding, via: layer.via, masked: kind === 'known-account' ? maskAccountNumber(number) : maskPan(number) });
  };
  for (const text of texts) {
    for (const card of known.cards) if (card && text.includes(card)) add('known-card', card);
    for (const account of known.accounts) if (account && text.includes(account)) add('known-account', account);
  }
  for (const text of cardLikeTexts) {
    for (const match of text.matchAll(CARD_LIKE)) if (luhnValid(match[0]) && !known.cards.includes(match[0])) add('card-like', match[0]);
  }
  return found;
}

function maskAccountNumber(value: string): string {
  return value.length <= 8 ? '*'.repeat(value.length) : `${'*'.repeat(value.length - 4)}${value.slice(-4)}`;
}

/** Every plaintext card or account number in the texts, in any of the four encodings, standalone or nested. */
export function findPlaintextNumbers(texts: Iterable<WrittenText>, known: KnownNumbers): PlaintextFinding[] {
  const findings: PlaintextFinding[] = [];
  for (const { where, text } of texts) for (const layer of layers(text)) findings.push(...findInLayer(where, layer, known));
  return findings;
}

/** What a scan read and found, per source: written as JSON next to the run's logs. */
export interface PlaintextScanReport {
  scanned_at: string;
  sources: Record<string, { texts: number; bytes: number; decoded: Record<Exclude<Encoding, 'decimal'>, number>; findings: Record<Encoding, number> }>;
  findings_by_encoding: Record<Encoding, number>;
  numbers_found: number;
  findings: PlaintextFinding[];
}

const zeroByEncoding = (): Record<Encoding, number> => ({ decimal: 0, base64: 0, base64url: 0, hex: 0 });

/** Scans every source ("kafka", "redis", "logs", "http") and counts what it read, decoded and found. */
export function scanWrittenData(sources: Record<string, readonly WrittenText[]>, known: KnownNumbers, now = new Date()): PlaintextScanReport {
  const report: PlaintextScanReport = { scanned_at: now.toISOString(), sources: {}, findings_by_encoding: zeroByEncoding(), numbers_found: 0, findings: [] };
  for (const [source, texts] of Object.entries(sources)) {
    const entry = { texts: texts.length, bytes: 0, decoded: { base64: 0, base64url: 0, hex: 0 }, findings: zeroByEncoding() };
    for (const { where, text } of texts) {
      entry.bytes += Buffer.byteLength(text);
      for (const layer of layers(text)) {
        const innermost = layer.via[layer.via.length - 1];
        if (innermost && innermost !== 'decimal') entry.decoded[innermost] += 1;
        for (const finding of findInLayer(where, layer, known)) {
          entry.findings[finding.encoding] += 1;
          report.findings_by_encoding[finding.encoding] += 1;
          report.findings.push(finding);
        }
      }
    }
    report.sources[source] = entry;
  }
  report.numbers_found = report.findings.length;
  return report;
}
