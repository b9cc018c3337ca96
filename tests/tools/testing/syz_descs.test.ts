/*
 * tests/tools/testing/syz_descs.test.ts - the fuzzer's per-syscall
 * descriptions cover the whole syscall table, and a short fuzz run issues
 * every syscall with every invalid-argument kind its description lists
 * (KUnit-style suite syz_descs).
 */
import { describe, it, expect } from 'vitest';
import { syscall_64_tbl } from '../../../arch/x86/entry/syscall_64.ts';
import { syz_descs, syz_desc_kinds, syz_arg_kinds } from '../../../tools/testing/syz_descs.ts';
import { asi_fuzz } from '../../../tools/testing/asi_fuzz.ts';

describe('syz_descs', () => {
  it('every row of syscall_64_tbl has a fuzz description, and no description names a syscall the table lacks', () => {
    const names = syscall_64_tbl.map(([, name]) => name);
    expect(names.filter((n) => !(n in syz_descs))).toEqual([]);
    expect(Object.keys(syz_descs).filter((n) => !names.includes(n))).toEqual([]);
  });

  it('every argument-taking pointer, fd, length, flags and path kind is described, with flag pools per flags argument', () => {
    for (const [, name] of syscall_64_tbl) {
      const d = syz_descs[name];
      const nflags = d.args.filter((a) => a === 'flags').length;
      expect(d.flags?.length ?? 0, name).toBe(nflags);
      expect(d.bad_flags?.length ?? 0, name).toBe(nflags);
    }
    expect(syz_desc_kinds(syz_descs.read)).toEqual(expect.arrayContaining(['negative_fd', 'closed_fd', 'null_ptr', 'kernel_ptr', 'noncanonical_ptr', 'unmapped_ptr', 'readonly_ptr', 'huge_len']));
    expect(syz_desc_kinds(syz_descs.open)).toEqual(expect.arrayContaining(['long_path', 'unterminated_path', 'bad_flags']));
    expect(syz_arg_kinds('ptr_in')).not.toContain('readonly_ptr'); // the kernel only reads it
  });

  // The draws move with the fuzzer and the cost profile: seed 1 covers everything from 28 programs today; 32 leaves a margin.
  it('seed 1, 32 programs: every syscall issued, each with every invalid kind its description lists; every result in range', () => {
    const s = asi_fuzz({ seed: 1, runs: 32 });
    expect(s.first).toBe(null);
    const missing: string[] = [];
    for (const [, name] of syscall_64_tbl) {
      const got = s.coverage.get(name);
      if (!got) missing.push(name);
      else for (const k of syz_desc_kinds(syz_descs[name])) if (!got.has(k)) missing.push(`${name}:${k}`);
    }
    expect(missing).toEqual([]);
    expect(s.exceptions).toBe(0);
    expect(s.mismatches).toBe(0);
    expect(s.leaks).toBe(0);
  });
});
