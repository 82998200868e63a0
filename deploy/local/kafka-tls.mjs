// TLS material for a Kafka listener that speaks SASL_SSL, made with the openssl CLI (no npm dependency): a CA, and a
// broker certificate it signs for the names (and addresses) clients connect to. Used by `npm run deploy:boot` for
// its sandbox broker, and by hand for the dev overlay's Kafka (docs/operations.md, "Deploy"):
//
//   node deploy/local/kafka-tls.mjs DIR NAME [NAME ...]
//     writes DIR/ca.crt, DIR/ca.key (kept: a second run reuses the CA, so clients keep trusting it),
//     DIR/broker.crt and DIR/broker.key (unencrypted PKCS#8), for DNS names and IP addresses NAME ...
//
// Keys are EC P-256; certificates last 30 days (development and tests only: production brokers get theirs from
// their operator, e.g. Strimzi's cluster CA).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function openssl(args, cwd) {
  const res = spawnSync('openssl', args, { encoding: 'utf8', cwd });
  if (res.error) throw new Error(`openssl is required to make Kafka TLS certificates: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`openssl ${args[0]} failed (exit ${res.status}): ${res.stderr.trim()}`);
}

const isIp = (name) => /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');

/**
 * The CA in `dir` (ca.crt, ca.key), made when absent. Returns { cert, key } paths.
 */
export function kafkaCa(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cert = join(dir, 'ca.crt');
  const key = join(dir, 'ca.key');
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  const work = mkdtempSync(join(tmpdir(), 'payrail-kafka-ca-'));
  try {
    const config = join(work, 'ca.cnf');
    writeFileSync(config, ['[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = ca', '[dn]', 'CN = payrail-kafka-ca', '[ca]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash', ''].join('\n'));
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    chmodSync(key, 0o600);
    openssl(['req', '-x509', '-new', '-key', key, '-config', config, '-days', '30', '-out', cert]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { cert, key };
}

/**
 * A broker certificate signed by the CA of `dir`, for `names` (DNS names and IP addresses: every name a client or
 * another broker connects to, since both verify it). Writes `<dir>/<basename>.crt` (the certificate, then the CA's:
 * the whole chain), `.key` (PKCS#8, mode 0600) and `.pem` (key then chain: a Kafka PEM keystore). Returns their paths
 * and the CA's.
 */
export function issueBrokerCertificate(dir, names, basename = 'broker') {
  if (names.length === 0) throw new Error('a broker certificate needs at least one name');
  const ca = kafkaCa(dir);
  const cert = join(dir, `${basename}.crt`);
  const key = join(dir, `${basename}.key`);
  const pem = join(dir, `${basename}.pem`);
  const work = mkdtempSync(join(tmpdir(), 'payrail-kafka-cert-'));
  try {
    const csr = join(work, 'broker.csr');
    const ext = join(work, 'broker.ext');
    const san = names.map((n) => (isIp(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    writeFileSync(ext, ['basicConstraints = CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment', 'extendedKeyUsage = serverAuth,clientAuth', `subjectAltName = ${san}`, ''].join('\n'));
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    chmodSync(key, 0o600);
    openssl(['req', '-new', '-key', key, '-subj', `/CN=${names.find((n) => !isIp(n)) ?? names[0]}`, '-out', csr]);
    const leaf = join(work, 'broker.crt');
    openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${Date.now().toString(16)}${process.pid.toString(16)}`, '-days', '30', '-extfile', ext, '-out', leaf]);
    const chain = `${readFileSync(leaf, 'utf8')}${readFileSync(ca.cert, 'utf8')}`;
    writeFileSync(cert, chain);
    writeFileSync(pem, `${readFileSync(key, 'utf8')}${chain}`, { mode: 0o600 });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { cert, key, pem, ca: ca.cert };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, ...names] = process.argv.slice(2);
  if (!dir || names.length === 0) {
    process.stderr.write('usage: node deploy/local/kafka-tls.mjs DIR NAME [NAME ...]\n');
    process.exit(64);
  }
  const out = issueBrokerCertificate(dir, names);
  process.stdout.write(`wrote ${out.ca}, ${out.cert} and ${out.key} for ${names.join(', ')}\n`);
}
