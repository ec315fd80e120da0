// TypeScript looks for client.d.mts next to client.mjs; the declarations live in client.d.ts.
export * from './client.js';
