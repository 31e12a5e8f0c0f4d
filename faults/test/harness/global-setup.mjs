// Starts the fault suite's own platform once for every fault file (see fault-platform.mjs).
import { startFaultPlatform } from './fault-platform.mjs';

export default async function globalSetup() {
  const platform = await startFaultPlatform();
  globalThis.__MPB_FAULT_PLATFORM__ = platform;
  Object.assign(process.env, platform.env);
  process.stderr.write(`\n[faults] platform ready in ${(platform.startedMs / 1000).toFixed(1)} s\n`);
}
