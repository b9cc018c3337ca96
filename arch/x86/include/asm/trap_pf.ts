/*
 * arch/x86/include/asm/trap_pf.ts - the #PF error code.
 *
 * Mirrors arch/x86/include/asm/trap_pf.h, plus the vector numbers of
 * asm/trapnr.h that the machine raises.
 */

export const X86_PF_PROT = 1 << 0; // 0: not present, 1: protection violation
export const X86_PF_WRITE = 1 << 1;
export const X86_PF_USER = 1 << 2;
export const X86_PF_RSVD = 1 << 3;
export const X86_PF_INSTR = 1 << 4;
export const X86_PF_PK = 1 << 5;
export const X86_PF_SHSTK = 1 << 6;
export const X86_PF_SGX = 1 << 15;

export const X86_TRAP_UD = 6;
export const X86_TRAP_GP = 13;
export const X86_TRAP_PF = 14;

/** The error code as the oops report prints it: "[PROT] [WRITE] [USER]". */
export function pf_error_string(code: number): string {
  const parts = [
    code & X86_PF_PROT ? 'permissions violation' : 'not-present page',
    code & X86_PF_WRITE ? 'write' : code & X86_PF_INSTR ? 'instruction fetch' : 'read',
    code & X86_PF_USER ? 'user' : 'supervisor',
  ];
  if (code & X86_PF_RSVD) parts.push('reserved bit');
  return `${parts[2]} ${parts[1]} access, ${parts[0]}, error_code(0x${code.toString(16).padStart(4, '0')})`;
}
