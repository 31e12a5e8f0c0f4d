export * from './app-error';
export * from './grpc';
export * from './http';
