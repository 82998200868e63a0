// payrail-upstream: the upstream kit (docs/upstreams.md).
//   keygen --dir DIR                      an upstream key pair: DIR/private.jwks.json + DIR/public.jwks.json
//   register --id ID --public FILE --upstreams DIR --merchants M1,M2 [--rate N --burst N]   writes the registration operators install
//   submit --id ID --keys DIR --ingest URL --payment FILE [--idempotency-key K] [--detached]
//   publish --id ID --keys DIR --payment FILE [--idempotency-key K] [--ingest URL | --inbound-jwks FILE]
//                                         signs, encrypts to Payrail's inbound key (JWS nested in a JWE) and publishes
//                                         to the inbound topic (KAFKA_BROKERS, KAFKA_SASL_* as the payrail-upstream user)
//   status --id ID --keys DIR --ingest URL --payment-id ID
//   demo --ingest URL --upstreams DIR --keys DIR --payments N [--summary FILE] [--progress]
import 'reflect-metadata';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PaymentSubmissionSchema, TOPICS } from '@payrail/contracts';
import { writeDevKeys } from '@payrail/crypto';
import { EventProducer, createKafka, kafkaConnectionFromProcessEnv } from '@payrail/messaging';
import { runDemo } from './demo';
import { DEFAULT_UPSTREAM_LIMITS, InboundPaymentEncrypter, UpstreamClient, writeUpstreamRegistration } from '@payrail/upstream-sdk';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      id: { type: 'string' },
      public: { type: 'string' },
      upstreams: { type: 'string' },
      keys: { type: 'string' },
      ingest: { type: 'string', default: 'http://127.0.0.1:8080' },
      payment: { type: 'string' },
      'payment-id': { type: 'string' },
      'idempotency-key': { type: 'string' },
      'inbound-jwks': { type: 'string' },
      merchants: { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      detached: { type: 'boolean', default: false },
      payments: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '16' },
      summary: { type: 'string' },
      progress: { type: 'boolean', default: false },
      'final-timeout': { type: 'string', default: '120' },
      seed: { type: 'string', default: '7' },
    },
  });
  const need = (name: keyof typeof values): string => {
    const v = values[name];
    if (typeof v !== 'string') throw new Error(`--${name} is required`);
    return v;
  };
  switch (positionals[0]) {
    case 'keygen': {
      const written = await writeDevKeys(need('dir'), { alg: 'ES256' });
      process.stdout.write(`${JSON.stringify(written)}\n`);
      return 0;
    }
    case 'register': {
      const limits = {
        requests_per_second: Number(values.rate ?? DEFAULT_UPSTREAM_LIMITS.requests_per_second),
        burst: Number(values.burst ?? DEFAULT_UPSTREAM_LIMITS.burst),
      };
      if (!Number.isInteger(limits.requests_per_second) || !Number.isInteger(limits.burst) || limits.requests_per_second < 1 || limits.burst < 1) {
        throw new Error('--rate and --burst must be positive integers');
      }
      const merchants = need('merchants').split(',').map((m) => m.trim()).filter((m) => m.length > 0);
      if (merchants.length === 0) throw new Error('--merchants must name at least one merchant id');
      process.stdout.write(`${writeUpstreamRegistration(need('upstreams'), need('id'), need('public'), { merchants, limits })}\n`);
      return 0;
    }
    case 'submit': {
      const client = await UpstreamClient.open(need('id'), join(need('keys'), 'private.jwks.json'), need('ingest'));
      const payment = PaymentSubmissionSchema.parse(JSON.parse(readFileSync(need('payment'), 'utf8')));
      const key = values['idempotency-key'];
      const res = values.detached ? await client.submitDetached(client.signPaymentDetached(payment), key) : await client.submit(client.signPayment(payment), key);
      process.stdout.write(`${res.status} ${JSON.stringify(res.body)}\n`);
      return res.status === 202 ? 0 : 1;
    }
    case 'publish': {
      const client = await UpstreamClient.open(need('id'), join(need('keys'), 'private.jwks.json'), need('ingest'));
      const payment = PaymentSubmissionSchema.parse(JSON.parse(readFileSync(need('payment'), 'utf8')));
      // Payrail's inbound key: from a file the operators handed over, else fetched from ingest's public port
      const jwks = values['inbound-jwks'];
      const encrypter = jwks ? await InboundPaymentEncrypter.fromFile(jwks) : await InboundPaymentEncrypter.fetch(need('ingest'));
      const message = await encrypter.message(client.signPayment(payment), values['idempotency-key']);
      const producer = new EventProducer(createKafka(kafkaConnectionFromProcessEnv(process.env, `payrail-upstream-${client.upstreamId}`)), { source: `upstream/${client.upstreamId}` });
      await producer.connect();
      try {
        await producer.publish(TOPICS.paymentsInbound, message, { key: payment.upstream_reference, correlationId: payment.upstream_reference });
      } finally {
        await producer.disconnect();
      }
      process.stdout.write(`${JSON.stringify({ topic: TOPICS.paymentsInbound.name, key: payment.upstream_reference, kid: encrypter.kid })}\n`);
      return 0;
    }
    case 'status': {
      const client = await UpstreamClient.open(need('id'), join(need('keys'), 'private.jwks.json'), need('ingest'));
      const res = await client.status(need('payment-id'));
      process.stdout.write(`${res.status} ${JSON.stringify(res.body, null, 2)}\n`);
      return res.status === 200 ? 0 : 1;
    }
    case 'demo': {
      const upstreams = readdirSync(need('upstreams')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
      const summary = await runDemo({
        ingestUrl: need('ingest'),
        keysDir: need('keys'),
        upstreams,
        payments: Number(values.payments),
        concurrency: Number(values.concurrency),
        progress: values.progress,
        summary: values.summary,
        finalTimeoutS: Number(values['final-timeout']),
        seed: Number(values.seed),
      });
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return summary.lost === 0 && summary.rejected === 0 ? 0 : 1;
    }
    default:
      process.stderr.write('usage: payrail-upstream keygen|register|submit|publish|status|demo ... (see docs/upstreams.md)\n');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`payrail-upstream: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
