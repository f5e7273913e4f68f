#!/usr/bin/env node
// The `relay` command. In a checkout (src/ is there) it runs the TypeScript sources through tsx, so no build step
// is needed and a stale dist/ is never run by mistake; where only the build is (an installed package, the Docker
// image) it runs the compiled dist/ (`npm run build`), without tsx.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
if (existsSync(join(root, 'src', 'cli', 'main.ts')) || !existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  require('tsx/cjs');
  require('../src/cli/main.ts');
} else {
  require('../dist/cli/main.js');
}
