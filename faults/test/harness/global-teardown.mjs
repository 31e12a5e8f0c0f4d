// Always runs after the fault files, passed or failed: services, broker, Redis, proxy and control stop.
export default async function globalTeardown() {
  await globalThis.__MPB_FAULT_PLATFORM__?.stop();
}
