// npm run build: core.wasm from the C++ core (scripts/build-wasm.sh), then the Worker bundled
// by esbuild into dist/ beside it. dist/ is what workerd and wrangler load.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const wasmBuild = path.join(root, 'build', 'wasm');

execFileSync(path.join(root, 'scripts', 'build-wasm.sh'), [wasmBuild], { stdio: 'inherit' });
mkdirSync(path.join(here, 'dist'), { recursive: true });
copyFileSync(path.join(wasmBuild, 'core.wasm'), path.join(here, 'dist', 'core.wasm'));
await build({
  entryPoints: [path.join(here, 'src', 'worker.js')],
  outfile: path.join(here, 'dist', 'worker.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['*.wasm', 'node:*'],
  logLevel: 'warning',
});
for (const f of ['core.wasm', 'worker.js']) {
  console.log(`dist/${f}: ${statSync(path.join(here, 'dist', f)).size} bytes`);
}
