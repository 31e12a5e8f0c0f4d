export default async function globalTeardown() {
  await globalThis.__MPB_PLATFORM__?.stop();
}
