/*
 * tests/tools/start.test.ts - `npm start -- <command line>` refuses a bad
 * command line cleanly.
 *
 * KUnit-style suite tools_start. A bad command line prints one line,
 * "tskernel: bad command line: <reason>", and exits 2: no host stack trace,
 * whichever subsystem's parameter is at fault (a syntax error found by the
 * parser, a name found unknown by the cost model at boot). asi=on, once
 * refused as not implemented, now boots.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function npm_start(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/start.ts', ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tools_start', () => {
  it.each([
    ['costs=nosuch', /^tskernel: bad command line: costs=: unknown profile 'nosuch'/],
    ['costs=sapphire_rapids,nokey=1', /^tskernel: bad command line: costs=: unknown cost key 'nokey'/],
    ['mem=12Q', /^tskernel: bad command line: mem=: invalid size '12Q'/],
    ['asi=maybe', /^tskernel: bad command line: asi=/],
  ])('%s: one line on stderr and exit status 2', (arg, line) => {
    const r = npm_start(arg);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(line);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);   // no stack trace
    expect(r.stdout).toBe('');
  });

  it('asi=on boots, runs the demo and prints the ASI exits by reason and by faulting site', () => {
    const r = npm_start('mem=256M', 'cpus=2', 'asi=on', 'setcpuid=retbleed');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ASI exits \(asi=on\):\n  asi_exits +[1-9]/);
    expect(r.stdout).toMatch(/ASI page-fault exits by faulting site:\n  [a-z_?]+ +[1-9]/);
    expect(r.stdout).toMatch(/shutdown: every page returned/);
  });
});
