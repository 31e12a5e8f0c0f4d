/**
 * A local port nothing listens on, so connecting is refused at once. Port 1 (tcpmux) is privileged
 * and never served on our machines. A "free" ephemeral port is no good for this: once released, a
 * server that another test starts in parallel may bind it, and the test then talks to that server.
 */
export async function closedPort(): Promise<number> {
  return 1;
}
