import { resolve } from 'node:path';
import { isKeyWrapAlg, isSigningAlg, type KeyWrapAlg, type SigningAlg } from '../lib/algorithms';
import { KeyConfigError } from '../lib/errors';
import { writeDevKeys } from '../keys/dev-keys';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = `Usage: generate-keys [--out DIR] [--alg ES256|EdDSA|PS256] [--enc-alg ECDH-ES+A256KW|RSA-OAEP-256] [--no-enc] [--force]

Writes DIR/private.jwks.json (mode 0600, keep it secret) and DIR/public.jwks.json (publish it).
Defaults: --out ./keys, --alg ES256, an ECDH-ES+A256KW encryption key. Development keys only: production keys
come from the secret store (see libs/crypto/README.md).`;

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Command-line entry: returns the exit code (0 ok, 1 refused or failed, 2 usage). */
export async function runGenerateKeys(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let out = 'keys';
  let alg: SigningAlg = 'ES256';
  let encAlg: KeyWrapAlg = 'ECDH-ES+A256KW';
  let withEnc = true;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | undefined => {
      const v = argv[i + 1];
      i++;
      return v;
    };
    if (a === '--help' || a === '-h') {
      io.out(USAGE);
      return 0;
    } else if (a === '--out') {
      const v = value();
      if (v === undefined) return usage(io, '--out needs a directory');
      out = v;
    } else if (a === '--alg') {
      const v = value();
      if (!isSigningAlg(v)) return usage(io, `--alg must be ES256, EdDSA or PS256`);
      alg = v;
    } else if (a === '--enc-alg') {
      const v = value();
      if (!isKeyWrapAlg(v)) return usage(io, `--enc-alg must be ECDH-ES+A256KW or RSA-OAEP-256`);
      encAlg = v;
    } else if (a === '--no-enc') withEnc = false;
    else if (a === '--force') force = true;
    else return usage(io, `unknown argument ${String(a)}`);
  }
  try {
    const paths = await writeDevKeys(resolve(out), { alg, encAlg, withEncryptionKey: withEnc, overwrite: force });
    io.out(`private JWKS: ${paths.privatePath} (mode 0600)`);
    io.out(`public JWKS:  ${paths.publicPath}`);
    return 0;
  } catch (e) {
    io.err(e instanceof KeyConfigError ? e.message : `failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

function usage(io: CliIo, problem: string): number {
  io.err(problem);
  io.err(USAGE);
  return 2;
}

if (require.main === module) {
  runGenerateKeys(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
