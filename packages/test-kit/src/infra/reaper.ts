// The run's reaper (started by startReaper in run-label.ts): waits until its stdin closes, which
// happens when the run's process ends however it ends, then removes the run's containers.
import { configureTestcontainers } from './engine';
import { removeRunContainers } from './run-label';

const runId = process.argv[2];
if (!runId || !/^[a-z0-9-]+$/.test(runId)) {
  process.stderr.write('usage: reaper.js <run-id>\n');
  process.exit(2);
}
// Its own session already; a hang-up of the terminal it came from must not stop it either.
process.on('SIGHUP', () => undefined);
process.on('SIGINT', () => undefined);
configureTestcontainers(process.env);
process.stdin.resume();
process.stdin.on('close', () => {
  // Bounded: an engine that stopped answering must not leave this process behind forever.
  setTimeout(() => process.exit(1), 60_000).unref();
  removeRunContainers(runId).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
