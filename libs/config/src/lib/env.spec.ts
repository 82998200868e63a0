import { z } from 'zod';
import { ConfigError, envBool, envInt, envList, parseEnv, serviceEnvFragment } from './env';

const Schema = z.object({ ...serviceEnvFragment, KAFKA_BROKERS: envList, ENABLED: envBool.default(false), WORKERS: envInt(1, 8).default(2) });

describe('parseEnv', () => {
  it('coerces and defaults variables', () => {
    const c = parseEnv(Schema, { HTTP_PORT: '8080', KAFKA_BROKERS: 'a:1, b:2', ENABLED: 'true' });
    expect(c).toEqual({ HTTP_HOST: '0.0.0.0', HTTP_PORT: 8080, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_S: 25, KAFKA_BROKERS: ['a:1', 'b:2'], ENABLED: true, WORKERS: 2 });
  });

  it('names every missing or bad variable with the reason', () => {
    let error: unknown;
    try {
      parseEnv(Schema, { HTTP_PORT: '70000', WORKERS: 'two', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.variable).sort()).toEqual(['HTTP_PORT', 'KAFKA_BROKERS', 'LOG_LEVEL', 'WORKERS']);
    expect(problems.find((p) => p.variable === 'KAFKA_BROKERS')?.reason).toBe('is required but not set');
    expect(problems.find((p) => p.variable === 'HTTP_PORT')?.reason).toContain('65535');
  });
});
