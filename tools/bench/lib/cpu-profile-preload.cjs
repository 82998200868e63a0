// Preloaded into a service by `npm run bench:ingest -- --cpu-prof DIR` (NODE_OPTIONS=--require this file; Node
// refuses --cpu-prof in NODE_OPTIONS): a V8 CPU profile of the whole process, written to
// $PAYRAIL_CPU_PROFILE_DIR/<pid>.cpuprofile when it exits (open it in Chrome DevTools, or read its JSON).
'use strict';
const { Session } = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.PAYRAIL_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  let written = false;
  // the main thread's session answers synchronously, so this works in 'exit' and in a signal listener
  const write = () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.once('exit', write);
  // NestJS closes the app on SIGTERM, then raises SIGTERM again to die by it ('exit' never fires): the profile is
  // written on the first one (the shutdown is not what is profiled), and the second ends the process
  let signals = 0;
  process.on('SIGTERM', () => {
    write();
    if (++signals > 1) process.exit(0);
  });
}
