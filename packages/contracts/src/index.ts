export * from './proto';
export * from './events';
export * from './identity';
export * from './ids';
