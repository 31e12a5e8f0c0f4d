export default async function globalTeardown() {
  await globalThis.__MPB_PLATFORM__?.stop();
  await globalThis.__MPB_TRACE_COLLECTOR__?.close();
}
