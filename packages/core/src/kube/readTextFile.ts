import { readFile } from 'node:fs/promises';

/** Reads a UTF-8 file; rejects with an error whose `code` is `ENOENT` when it does not exist. Injected for tests. */
export type ReadTextFile = (path: string) => Promise<string>;

export const nodeReadTextFile: ReadTextFile = (path) => readFile(path, 'utf8');
