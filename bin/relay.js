#!/usr/bin/env node
// The `relay` command. Runs the TypeScript sources through tsx, so no build step is needed.
require('tsx/cjs');
require('../src/cli/main.ts');
