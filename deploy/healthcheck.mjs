#!/usr/bin/env node
// The image's health check: GET /readyz of the relay process in this container. One image serves two commands,
// `api` (RELAY_HTTP_PORT, default 8080) and `worker` (RELAY_WORKER_HTTP_PORT, default 8081); which one runs is
// the first argument, else read from the container's main process (/proc/1/cmdline, docker-init included).
// When neither says, either port answering 200 will do. Exit 0 when ready, 1 otherwise, with /readyz's reasons
// on stdout (docker inspect shows them).
import { readFileSync } from 'node:fs';

const COMMANDS = ['api', 'worker'];
const ports = {
  api: process.env.RELAY_HTTP_PORT || '8080',
  worker: process.env.RELAY_WORKER_HTTP_PORT || '8081',
};

function command() {
  const arg = process.argv[2];
  if (COMMANDS.includes(arg)) return arg;
  try {
    return readFileSync('/proc/1/cmdline', 'utf8')
      .split('\0')
      .find((a) => COMMANDS.includes(a));
  } catch {
    return undefined;
  }
}

// Both processes listen on RELAY_HTTP_HOST; a wildcard address is reached on the loopback.
function host() {
  const h = (process.env.RELAY_HTTP_HOST || '').trim();
  if (h === '' || h === '0.0.0.0' || h === '::') return '127.0.0.1';
  return h.includes(':') ? `[${h}]` : h;
}

async function ready(port) {
  const url = `http://${host()}:${port}/readyz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
    const body = (await res.text()).slice(0, 500);
    return { ok: res.ok, line: `${url}: ${res.status} ${body}` };
  } catch (err) {
    return { ok: false, line: `${url}: ${err.cause?.code ?? err.message}` };
  }
}

async function main() {
  const which = command();
  const checks = await Promise.all((which ? [which] : COMMANDS).map((c) => ready(ports[c])));
  for (const c of checks) console.log(c.line);
  return checks.some((c) => c.ok) ? 0 : 1;
}

try {
  process.exit(await main());
} catch (err) {
  console.log(err);
  process.exit(1);
}
