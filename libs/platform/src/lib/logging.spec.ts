import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACT_PATHS } from './logging';

describe('log redaction', () => {
  it('blanks card numbers, keys and tokens wherever they appear one level down', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const logger = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    logger.info({ payer: { number: '4111111111111111' }, key: { d: 'private-scalar' }, upstream: { jws: 'eyJ.x.y' } }, 'payment');
    const line = lines.join('');
    expect(line).not.toContain('4111111111111111');
    expect(line).not.toContain('private-scalar');
    expect(line).not.toContain('eyJ.x.y');
    expect(line).toContain('[redacted]');
  });
});
