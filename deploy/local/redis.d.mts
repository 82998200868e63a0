// Types of redis.mjs for the TypeScript that uses it (the benchmarks' lib/run-keys.ts, deploy/*.spec.ts).

export class RedisReplyError extends Error {}

export type RespReply = string | number | Buffer | null | RedisReplyError | RespReply[];

export interface RespConnection {
  command(args: (string | Buffer)[]): Promise<RespReply>;
  close(): void;
}

export function encodeCommand(args: (string | Buffer)[]): Buffer;
export function parseReply(buffer: Buffer, at?: number): { value: RespReply; end: number } | undefined;
export function openRedis(url: string, options?: { timeoutMs?: number }): Promise<RespConnection>;
export function redisAnswers(url: string, timeoutMs?: number): Promise<boolean>;

/** payrail-run-<name>-<8 hex>: */
export function newRunPrefix(name: string): string;
/** The SCAN MATCH pattern of every key that starts with the prefix. */
export function prefixPattern(prefix: string): string;

export interface DeleteResult {
  /** What UNLINK removed. */
  removed: number;
  /** false when the time limit stopped it before SCAN came round (the rest stays for a later call). */
  complete: boolean;
  ms: number;
  error?: Error;
}

export function deleteKeysUnderPrefix(url: string, prefix: string, options?: { batch?: number; timeLimitMs?: number; timeoutMs?: number }): Promise<DeleteResult>;

export interface RunPrefixClaim {
  prefix: string;
  url: string;
  /** The record in runDir/redis-prefixes/. */
  file: string;
  /** Deletes every key under the prefix, logs how many, forgets the record when none is left. Once per claim. */
  release(options?: { timeLimitMs?: number }): Promise<DeleteResult>;
}

export function claimRunPrefix(options: { runDir: string; url: string; prefix: string }): RunPrefixClaim;
export function cleanAbandonedPrefixes(payrailDir: string, options?: { timeLimitMs?: number }): Promise<{ prefix: string; removed: number; complete: boolean }[]>;

export interface LocalRedis {
  url: string;
  /** false: an existing Redis is reused (the caller isolates its keys with a prefix). */
  started: boolean;
  pid?: number;
  stop(): Promise<void>;
  restart?(): Promise<number>;
}

export function ensureRedis(options: { runDir: string; url?: string; allowDefault?: boolean }): Promise<LocalRedis>;
export function redact(url: string): string;

export interface ClusterNode {
  id: string;
  /** host:port */
  address: string;
  port: number;
  flags: string[];
  /** The id of its master, for a replica. */
  master?: string;
  connected: boolean;
  slots: string[];
}

export function parseClusterNodes(text: string | Buffer): ClusterNode[];
export function slotCount(slots: string[]): number;

export interface LocalRedisCluster {
  /** "127.0.0.1:port" of every node (what REDIS_CLUSTER_NODES takes). */
  seeds: string[];
  ports: number[];
  /** Live nodes: port -> pid. */
  pids: Map<number, number>;
  topology(): Promise<ClusterNode[]>;
  waitHealthy(timeoutMs?: number, minReplicas?: number): Promise<ClusterNode[]>;
  kill(port: number): Promise<void>;
  restart(port: number): Promise<number>;
  stop(): Promise<void>;
}

export function startRedisCluster(options: { runDir: string; masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number; password?: string }): Promise<LocalRedisCluster>;
