export * from './proto';
export * from './events';
