#!/usr/bin/env node
// Entry point of the `fleet` CLI. In a checkout (src/ present and tsx installed) it runs the
// TypeScript sources directly, so `npm start` never runs stale code; in the production image
// (no src/, no dev dependencies) it runs the compiled dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const compiled = new URL('../dist/cli/main.js', import.meta.url);

async function load() {
  if (existsSync(source)) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      return import(source);
    } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    }
  }
  return import(compiled);
}

const { main } = await load();
await main(process.argv);
