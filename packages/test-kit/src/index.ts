export * from './captured-logs';
export * from './database';
export * from './test-keys';
export * from './wait';
export * from './topic-reader';
export * from './ports';
export * from './revocation-feed';
