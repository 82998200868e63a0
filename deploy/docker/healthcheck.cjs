// Container HEALTHCHECK (Docker / compose; Kubernetes uses its own probes): GET /health/ready on the service's
// HTTP port. HTTP_PORT when set, else the service's default port: the same defaults as the apps' config schemas
// (deploy/dockerfile.spec.ts checks they agree). Exit 0 = healthy.
'use strict';

const DEFAULT_PORTS = { ingest: 8080, signing: 8081, 'fraud-check': 8082, settlement: 8083 };

function check(env) {
  const port = Number(env.HTTP_PORT || DEFAULT_PORTS[env.APP]);
  if (!port) {
    process.stderr.write(`no HTTP port for APP=${env.APP}: not a service image\n`);
    process.exit(1);
  }
  fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2500) }).then(
    (res) => process.exit(res.ok ? 0 : 1),
    () => process.exit(1),
  );
}

if (require.main === module) check(process.env);
module.exports = { DEFAULT_PORTS };
