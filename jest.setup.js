// Per-project settings jest only accepts at the root: integration tests talk to real servers.
jest.setTimeout(30000);
