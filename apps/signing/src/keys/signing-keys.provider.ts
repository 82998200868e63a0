import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { JwsSigner, KeyConfigError, ReloadingKeyStore, writeDevKeys } from '@payrail/crypto';
import { SIGNING_CONFIG, SigningConfig } from '../config';

/**
 * Payrail's private signing keys, only ever held by this service. The key file is watched (and re-read on
 * SIGHUP): operators rotate by editing the JWKS (add key -> publish -> make it active -> retire the old one).
 */
@Injectable()
export class SigningKeys implements OnApplicationShutdown {
  private store: ReloadingKeyStore | undefined;
  private signerValue: JwsSigner | undefined;

  constructor(
    @Inject(SIGNING_CONFIG) private readonly config: SigningConfig,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('signing-keys');
  }

  /** Loads (or, in development, creates) the keys; refuses to start on missing, weak or mismatched keys. */
  async load(): Promise<void> {
    if (!existsSync(this.config.keysFile)) {
      if (!this.config.generateDevKeys) {
        throw new KeyConfigError(`SIGNING_KEYS_FILE ${this.config.keysFile} does not exist (set SIGNING_GENERATE_DEV_KEYS=true to create development keys)`);
      }
      const written = await writeDevKeys(dirname(this.config.keysFile), { alg: 'ES256' });
      this.logger.warn({ file: written.privatePath }, 'generated development signing keys: never use them in production');
    }
    this.store = await ReloadingKeyStore.watch(this.config.keysFile, {
      signal: 'SIGHUP',
      onReload: (ks) => this.logger.info({ active: ks.activeKey('sig').kid, keys: ks.size() }, 'signing keys reloaded'),
      onError: (err) => this.logger.error({ err: err.message }, 'signing key reload refused; keeping the previous keys'),
    });
    const active = this.store.current().activeKey('sig');
    this.signerValue = new JwsSigner(this.store);
    this.logger.info({ kid: active.kid, alg: active.alg }, 'signing keys loaded');
  }

  get signer(): JwsSigner {
    if (!this.signerValue) throw new Error('signing keys not loaded');
    return this.signerValue;
  }

  activeKid(): string {
    return this.keyStore().current().activeKey('sig').kid;
  }

  publicJwks(): { keys: Array<Record<string, unknown>> } {
    return this.keyStore().current().publicJwks();
  }

  private keyStore(): ReloadingKeyStore {
    if (!this.store) throw new Error('signing keys not loaded');
    return this.store;
  }

  onApplicationShutdown(): void {
    this.store?.close();
  }
}
