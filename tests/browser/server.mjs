// Starts `KEFU_BIN serve --demo` for the browser tests on a random loopback
// port with a fresh data directory, and stops it again.
//
//   const server = await startServer();
//   server.baseUrl      // e.g. http://127.0.0.1:41234
//   server.credentials  // { admin, supervisor, agent } -> { email, password }
//   await server.stop();

import { spawn } from 'node:child_process';
import { mkdtemp, rm, access, constants } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const STARTUP_TIMEOUT_MS = 30_000;

const DEFAULT_CREDENTIALS = {
  admin: { email: 'admin@nebula-ex.com', password: 'kefu-demo-pass' },
  supervisor: { email: 'supervisor@nebula-ex.com', password: 'kefu-demo-pass' },
  agent: { email: 'agent@nebula-ex.com', password: 'kefu-demo-pass' },
};

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export async function startServer() {
  const bin = process.env.KEFU_BIN;
  if (!bin) {
    throw new Error('KEFU_BIN is not set. Build the server (cargo build) and run e.g. '
      + '`KEFU_BIN=target/debug/kefu node --test tests/browser/`.');
  }
  try {
    await access(bin, constants.X_OK);
  } catch {
    throw new Error(`KEFU_BIN=${bin} does not exist or is not executable.`);
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kefu-browser-'));
  const proc = spawn(bin, ['serve', '--demo', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const output = [];
  const credentials = {};
  let baseUrl = null;

  const ready = new Promise((resolve, reject) => {
    let settleTimer = null;
    const timer = setTimeout(() => {
      reject(new Error(`server did not print "listening on http://..." within ${STARTUP_TIMEOUT_MS} ms.\n${output.slice(-40).join('\n')}`));
    }, STARTUP_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      clearTimeout(settleTimer);
      resolve();
    };
    const onLine = (raw) => {
      const line = raw.replace(ANSI, '');
      output.push(line);
      if (output.length > 500) output.shift();
      const cred = line.match(/^\s*(admin|supervisor|agent)\s+(\S+@\S+)\s+(\S+)\s*$/);
      if (cred) credentials[cred[1]] = { email: cred[2], password: cred[3] };
      const listen = line.match(/listening on (http:\/\/\S+)/);
      if (listen && !baseUrl) {
        baseUrl = listen[1].replace(/[.,;]+$/, '').replace(/\/+$/, '');
        // The demo credentials may be printed just after the address.
        settleTimer = setTimeout(done, 1500);
      }
      if (baseUrl && credentials.admin && credentials.agent) done();
    };
    // Logs usually go to stdout; scan stderr as well and always keep draining both pipes.
    readline.createInterface({ input: proc.stdout }).on('line', onLine);
    readline.createInterface({ input: proc.stderr }).on('line', onLine);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}).\n${output.slice(-40).join('\n')}`));
    });
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${bin}: ${err.message}`));
    });
  });

  async function stop() {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dataDir, { recursive: true, force: true });
  }

  try {
    await ready;
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return {
    baseUrl,
    credentials: { ...DEFAULT_CREDENTIALS, ...credentials },
    stop,
  };
}
