// docker-compose.yml cannot run here (no Docker engine): this test keeps it true to the code instead. Every
// service the compose file runs must set exactly variables its config schema reads, cover every required one,
// and publish the port its HTTP_PORT says.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { IngestEnvSchema } from '../apps/ingest/src/config';
import { SigningEnvSchema } from '../apps/signing/src/config';
import { FraudCheckEnvSchema } from '../apps/fraud-check/src/config';
import { SettlementEnvSchema } from '../apps/settlement/src/config';

type ComposeService = { environment?: Record<string, unknown>; ports?: string[]; depends_on?: Record<string, { condition: string }>; image?: string; healthcheck?: unknown };
const compose = parse(readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };

// variables read outside the zod object (secrets given directly or as *_FILE)
const SECRET_VARS: Record<string, string[]> = { ingest: ['FINGERPRINT_KEY_FILE'], signing: [], 'fraud-check': [], settlement: ['SETTLEMENT_OPERATOR_TOKEN_FILE'] };
const SCHEMAS: Record<string, z.ZodObject> = { ingest: IngestEnvSchema, signing: SigningEnvSchema, 'fraud-check': FraudCheckEnvSchema, settlement: SettlementEnvSchema };

describe('docker-compose.yml', () => {
  it.each(Object.keys(SCHEMAS))('%s sets only variables its config reads, and every required one', (name) => {
    const service = compose.services[name];
    expect(service).toBeDefined();
    const env = Object.keys(service?.environment ?? {});
    const schema = SCHEMAS[name];
    if (!schema) throw new Error(name);
    const known = new Set([...Object.keys(schema.shape), ...(SECRET_VARS[name] ?? [])]);
    expect(env.filter((v) => !known.has(v))).toEqual([]);
    const required = Object.entries(schema.shape).filter(([, s]) => !(s as z.ZodType).safeParse(undefined).success).map(([k]) => k);
    const oneOf = ['SIGNING_JWKS_URL', 'SIGNING_JWKS_FILE'];
    expect(required.filter((v) => !env.includes(v) && !oneOf.includes(v))).toEqual([]);
    const port = String(service?.environment?.['HTTP_PORT']);
    expect(service?.ports).toContain(`${port}:${port}`);
  });

  it('pins the Kafka image, runs KRaft, and starts services only after healthy dependencies', () => {
    expect(compose.services['kafka']?.image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(compose.services['kafka']?.environment?.['KAFKA_PROCESS_ROLES']).toBe('broker,controller');
    for (const name of Object.keys(SCHEMAS)) {
      const deps = compose.services[name]?.depends_on ?? {};
      expect(Object.values(deps).every((d) => d.condition === 'service_healthy' || d.condition === 'service_completed_successfully')).toBe(true);
    }
    expect(compose.services['kafka']?.healthcheck).toBeDefined();
    expect(compose.services['redis']?.healthcheck).toBeDefined();
  });
});
