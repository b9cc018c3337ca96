/*
 * tests/arch/x86/entry/syscall_64.test.ts - the static syscall table and what is derived from it.
 *
 * Linux generates sys_call_table[], __NR_syscalls and the uapi
 * unistd_64.h from syscall_64.tbl; here the table is
 * arch/x86/entry/syscall_64.ts and the uapi header is written by hand, so
 * these cases are the generator's guarantee: the header and the table
 * agree row for row, every other slot is sys_ni_syscall, and each boot
 * starts from the table again.
 */
import { describe, it, expect } from 'vitest';
import * as unistd_64 from '../../../../arch/x86/include/uapi/asm/unistd_64.ts';
import {
  syscall_64_tbl, NR_syscalls, syscall_name, syscall_64_state, syscall_table_init, x64_sys_call,
} from '../../../../arch/x86/entry/syscall_64.ts';
import { do_syscall_64 } from '../../../../arch/x86/entry/common.ts';
import { sys_ni_syscall } from '../../../../kernel/sys_ni.ts';
import { sys_pread64 } from '../../../../fs/read_write.ts';
import { ENOSYS } from '../../../../include/uapi/asm-generic/errno.ts';
import { kunit_activate_syscall_stub } from '../../../fs/helpers.ts';

describe('x86_entry_syscall_64', () => {
  it('the uapi header holds exactly the table rows: __NR_<name> = nr', () => {
    const from_table = Object.fromEntries(syscall_64_tbl.map(([nr, name]) => [`__NR_${name}`, nr]));
    expect({ ...unistd_64 }).toEqual(from_table);
  });

  it('rows are in number order, numbers and names unique; NR_syscalls is one past the last', () => {
    const nrs = syscall_64_tbl.map(([nr]) => nr);
    expect(nrs).toEqual([...nrs].sort((a, b) => a - b));
    expect(new Set(nrs).size).toBe(nrs.length);
    expect(new Set(syscall_64_tbl.map(([, name]) => name)).size).toBe(nrs.length);
    expect(NR_syscalls).toBe(nrs[nrs.length - 1] + 1);
  });

  it('sys_call_table: each row at its number, sys_ni_syscall in every other slot', () => {
    syscall_table_init();
    const table = syscall_64_state.sys_call_table;
    expect(table.length).toBe(NR_syscalls);
    const bound = new Map(syscall_64_tbl.map(([nr, , entry]) => [nr, entry]));
    for (let nr = 0; nr < NR_syscalls; nr++) expect(table[nr]).toBe(bound.get(nr) ?? sys_ni_syscall);
    expect(table[unistd_64.__NR_pread64]).toBe(sys_pread64);
    expect(x64_sys_call([], 4)).toBe(-ENOSYS); // stat: not implemented
  });

  it('names for traces come from the table; an empty slot prints its number', () => {
    expect(syscall_name(unistd_64.__NR_read)).toBe('read');
    expect(syscall_name(unistd_64.__NR_fstat)).toBe('fstat');
    expect(syscall_name(4)).toBe('syscall_4');
    expect(syscall_name(NR_syscalls)).toBe(`syscall_${NR_syscalls}`);
    expect(syscall_name(-1)).toBe('syscall_-1');
  });

  it('numbers outside the table go to sys_ni_syscall: -ENOSYS', () => {
    expect([do_syscall_64(-1, []), do_syscall_64(NR_syscalls, []), do_syscall_64(2 ** 40, [])]).toEqual([-ENOSYS, -ENOSYS, -ENOSYS]);
  });

  it('syscall_table_init() puts back a slot changed since the last boot', () => {
    const stub = (): number => 42;
    kunit_activate_syscall_stub(unistd_64.__NR_pread64, stub);
    expect(syscall_64_state.sys_call_table[unistd_64.__NR_pread64]).toBe(stub);
    syscall_table_init();
    expect(syscall_64_state.sys_call_table[unistd_64.__NR_pread64]).toBe(sys_pread64);
  });
});
