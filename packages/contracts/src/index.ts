export * from './proto';
export * from './events';
export * from './event-payloads';
export * from './payload-compatibility';
export * from './identity';
export * from './ids';
