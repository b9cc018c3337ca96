/*
 * lib/vsprintf.ts - the printk format subset tskernel uses.
 *
 * Mirrors lib/vsprintf.c for: %d %i %u %x %lx %llx %s %c %%, width and zero
 * padding, and %px / %pK for kernel addresses. Addresses are 48-bit numbers
 * (DESIGN.md section 5); %px prints them sign-extended to 64 bits as Linux
 * does ("ffff888000000000"). Length modifiers (l, ll, z, h) are accepted and
 * ignored: every number here is a JS number.
 */
import { format_va } from '../arch/x86/include/asm/page.ts';

export function vsprintf(fmt: string, args: readonly unknown[]): string {
  let i = 0;
  return fmt.replace(/%(%|([-0]?)(\d*)(?:hh|h|ll|l|z)?(p[KxS]?|[diuxXsc]))/g,
    (_m, all: string, flag: string, width: string, conv: string) => {
      if (all === '%') return '%';
      const a = args[i++];
      let s: string;
      switch (conv) {
        case 'd': case 'i': case 'u': s = String(Math.trunc(Number(a))); break;
        case 'x': s = Number(a).toString(16); break;
        case 'X': s = Number(a).toString(16).toUpperCase(); break;
        case 'c': s = typeof a === 'number' ? String.fromCharCode(a) : String(a); break;
        case 'pS': s = String(a); break;
        case 'p': case 'pK': case 'px': s = format_va(Number(a)); break;
        default: s = String(a);
      }
      const w = width ? parseInt(width, 10) : 0;
      if (s.length < w) {
        if (flag === '-') s = s.padEnd(w);
        else s = s.padStart(w, flag === '0' ? '0' : ' ');
      }
      return s;
    });
}
