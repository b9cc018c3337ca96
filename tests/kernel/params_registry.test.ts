/*
 * tests/kernel/params_registry.test.ts - kernel/params.ts is the parser
 * and the registry, and owns no parameter.
 *
 * KUnit-style suite kernel_params_registry. Loaded without any subsystem
 * (this file imports nothing else that registers), the registry is empty
 * and every argument is an unknown one passed to init, as on a kernel
 * linked without the files that hold the __setup entries.
 */
import { describe, it, expect } from 'vitest';
import { registered_params, parse_kernel_params, default_kernel_params } from '../../kernel/params.ts';

describe('kernel_params_registry', () => {
  it('kernel/params.ts alone registers nothing', () => {
    expect(registered_params()).toEqual([]);
  });

  it('without the owners, known names are unknown parameters', () => {
    const p = parse_kernel_params('mem=1G nopcid -- x', { host_totalmem: 2 ** 34 });
    expect(p.unknown).toEqual(['nopcid', 'mem=1G']);
    expect(p.init_args).toEqual(['x']);
    expect(Object.keys(default_kernel_params()).sort())
      .toEqual(['argv_init', 'envp_init', 'init_args', 'saved_command_line', 'unknown']);
  });
});
