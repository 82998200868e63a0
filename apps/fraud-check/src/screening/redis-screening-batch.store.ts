// The screening batch's Redis work as explicit pipelines on the service's connection: one pipeline per call, the
// commands in request order (Redis runs them in that order, so the velocity scripts of a batch apply in offset order).
// Every command keeps to one hash slot as before (velocity per dimension value, decision per payment, the operators'
// hash tag for blocklists and reviews); only the round trip is shared. The blocklist lookups of the whole batch are
// one HMGET. Shared helper for pipelined scripts: kept in this app for now (pipelineScript below).
import type { PaymentScreened } from '@payrail/contracts';
import type { Redis } from '@payrail/messaging';
import { BLOCKLISTS_KEY, blocklistField, blocklistHits } from '../blocklist/redis-blocklist.store';
import { OPEN_SCRIPT, REVIEW_OPEN_SCRIPT_NAME, parseReview, reviewKey, reviewOpenArgs } from '../review/review-queue.store';
import { defineScript } from '../redis-script';
import { RedisVelocityStore, VELOCITY_SCRIPT_NAMES, parseObservation } from '../velocity/redis-velocity.store';
import { decisionKey, decisionTtlS, fromDecisionRecord, toDecisionRecord } from './decision-record';
import type { FollowUp, GatherRequest, Gathered, ScreeningBatchStore } from './screen-batch';

type Pipeline = ReturnType<Redis['pipeline']>;
type Replies = [Error | null, unknown][];

/** Queues a script registered on the connection (defineScript) in a pipeline, by name. */
function pipelineScript(pipeline: Pipeline, name: string, keysThenArgs: (string | number)[]): void {
  const command = (pipeline as unknown as Record<string, ((...args: (string | number)[]) => unknown) | undefined>)[name];
  if (!command) throw new Error(`Redis script ${name} is not registered on this connection`);
  command.apply(pipeline, keysThenArgs);
}

async function run(pipeline: Pipeline): Promise<Replies> {
  const replies = await pipeline.exec();
  if (!replies) throw new Error('Redis pipeline was not executed');
  return replies as Replies;
}

const asError = (err: Error | null | undefined): Error | undefined => err ?? undefined;

export class RedisScreeningBatchStore implements ScreeningBatchStore {
  constructor(
    private readonly redis: Redis,
    /** The velocity store's scripts and keys (it registers them on the same connection). */
    private readonly velocity: RedisVelocityStore,
  ) {
    // the review queue registers it too (the same script under the same name): defined here whatever is built first
    defineScript(redis, REVIEW_OPEN_SCRIPT_NAME, 2, OPEN_SCRIPT);
  }

  async gather(requests: readonly GatherRequest[]): Promise<(Gathered | { error: Error })[]> {
    const p = this.redis.pipeline();
    const fields: string[] = [];
    const argsError: (Error | undefined)[] = [];
    for (const r of requests) {
      p.get(decisionKey(r.paymentId));
      let error: Error | undefined;
      for (const v of r.velocity) {
        try {
          pipelineScript(p, VELOCITY_SCRIPT_NAMES.record, this.velocity.recordArgs(v.dimension, v.value, v.event));
        } catch (err) {
          error = err as Error;
          p.echo('skipped'); // keeps the reply positions
        }
      }
      argsError.push(error);
      for (const probe of r.probes) fields.push(blocklistField(probe.list, probe.value));
    }
    if (fields.length > 0) p.hmget(BLOCKLISTS_KEY, ...fields);
    const replies = await run(p);
    const blocklist = fields.length > 0 ? replies[replies.length - 1] : undefined;
    const found = (blocklist?.[1] as (string | null)[] | undefined) ?? [];
    let at = 0;
    let probeAt = 0;
    return requests.map((r, i) => {
      const [decisionErr, previous] = replies[at++] ?? [new Error('missing reply'), null];
      const observations = [];
      let error = argsError[i] ?? asError(decisionErr) ?? asError(blocklist?.[0]);
      for (let v = 0; v < r.velocity.length; v++) {
        const [err, raw] = replies[at++] ?? [new Error('missing reply'), null];
        if (err) error ??= err;
        else if (!error) observations.push(parseObservation(raw));
      }
      const hits = error ? [] : blocklistHits(r.probes, found, probeAt);
      probeAt += r.probes.length;
      return error ? { error } : { previous: (previous as string | null) ?? null, observations, hits };
    });
  }

  async storeOnce(decisions: readonly PaymentScreened[]): Promise<({ stored: PaymentScreened; won: boolean } | { error: Error })[]> {
    const p = this.redis.pipeline();
    for (const screened of decisions) {
      const ttlS = decisionTtlS(screened.decision);
      const key = decisionKey(screened.payment_id);
      if (ttlS === undefined) p.set(key, toDecisionRecord(screened), 'NX');
      else p.set(key, toDecisionRecord(screened), 'EX', ttlS, 'NX');
    }
    const replies = await run(p);
    // lost SET NX (another instance, rare): read the winner
    const lost = decisions.flatMap((s, i) => (replies[i]?.[0] === null && replies[i]?.[1] !== 'OK' ? [i] : []));
    const winners = new Map<number, [Error | null, unknown]>();
    if (lost.length > 0) {
      const g = this.redis.pipeline();
      for (const i of lost) g.get(decisionKey(decisions[i]?.payment_id ?? ''));
      (await run(g)).forEach((reply, j) => winners.set(lost[j] ?? -1, reply));
    }
    return decisions.map((screened, i) => {
      const [err, reply] = replies[i] ?? [new Error('missing reply'), null];
      if (err) return { error: err };
      if (reply === 'OK') return { stored: screened, won: true };
      const [winnerErr, winner] = winners.get(i) ?? [new Error('missing reply'), null];
      if (winnerErr) return { error: winnerErr };
      return typeof winner === 'string' ? { stored: fromDecisionRecord(winner, screened), won: false } : { stored: screened, won: true };
    });
  }

  async followUp(items: readonly FollowUp[]): Promise<({ final?: PaymentScreened } | { error: Error })[]> {
    const p = this.redis.pipeline();
    const counts: number[] = [];
    for (const f of items) {
      let n = 0;
      if (f.persist) {
        p.persist(decisionKey(f.paymentId));
        n++;
      }
      if (f.markPayee) {
        pipelineScript(p, VELOCITY_SCRIPT_NAMES.markPayee, this.velocity.markPayeeArgs(f.markPayee.dimension, f.markPayee.value, f.markPayee.payee, f.markPayee.paymentId));
        n++;
      }
      if (f.openReview) {
        pipelineScript(p, REVIEW_OPEN_SCRIPT_NAME, reviewOpenArgs(f.openReview.screened, f.openReview.summary));
        n++;
      }
      if (f.readFinal) {
        p.hgetall(reviewKey(f.paymentId));
        n++;
      }
      counts.push(n);
    }
    const replies = counts.some((n) => n > 0) ? await run(p) : [];
    let at = 0;
    return items.map((f, i) => {
      const mine = replies.slice(at, at + (counts[i] ?? 0));
      at += counts[i] ?? 0;
      const failed = mine.find(([err]) => err !== null);
      if (failed?.[0]) return { error: failed[0] };
      if (!f.readFinal) return {};
      const review = parseReview((mine[mine.length - 1]?.[1] ?? {}) as Record<string, string>);
      return { final: review?.final };
    });
  }
}
