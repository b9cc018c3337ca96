/*
 * lib/cmdline.ts - command-line scanning helpers: next_arg, get_option, memparse.
 *
 * Mirrors lib/cmdline.c (next_arg, get_option, memparse), plus the pieces of
 * lib/vsprintf.c (simple_strtoull), lib/kstrtox.c (kstrtoull and its radix
 * rule) and lib/string.c (skip_spaces) they stand on. C scans a char * and
 * hands back an end pointer; here a scan returns the unconsumed rest of the
 * string instead (`rest` plays the part of *retptr / *endp).
 *
 * Simplified: numbers are JS numbers, not u64. They are exact below 2^53 and
 * do not wrap at 2^64 as C's do; every caller refuses values that large.
 * Kept as Linux has it: base 0 means "0x" is hex and a leading 0 is octal,
 * so memparse('010M') is 8 MiB, exactly as on a real boot.
 */

/** isspace() in the kernel's ctype (lib/ctype.c): space, \t \n \v \f \r. */
export function isspace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

/** skip_spaces (lib/string.c). */
export function skip_spaces(s: string): string {
  let i = 0;
  while (i < s.length && isspace(s[i]!)) i++;
  return s.slice(i);
}

function digit_value(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 0x30 && code <= 0x39) return code - 0x30;          // 0-9
  const lc = code | 0x20;
  if (lc >= 0x61 && lc <= 0x7a) return lc - 0x61 + 10;           // a-z
  return 99;
}

/**
 * _parse_integer_fixup_radix (lib/kstrtox.c): with base 0, "0x" followed by
 * a hex digit means 16, any other leading "0" means 8, else 10. A "0x"
 * prefix is skipped when the base ends up 16.
 */
function fixup_radix(s: string, base: number): { s: string; base: number } {
  if (base === 0) {
    if (s[0] === '0') {
      base = (s[1] === 'x' || s[1] === 'X') && s.length > 2 && digit_value(s[2]!) < 16 ? 16 : 8;
    } else {
      base = 10;
    }
  }
  if (base === 16 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X')) s = s.slice(2);
  return { s, base };
}

/**
 * _parse_integer (lib/kstrtox.c): the longest run of digits in `base` at the
 * front of `s`. `n` is how many characters were digits (0: none).
 */
function parse_integer(s: string, base: number): { value: number; n: number } {
  let value = 0;
  let n = 0;
  for (; n < s.length; n++) {
    const d = digit_value(s[n]!);
    if (d >= base) break;
    value = value * base + d;
  }
  return { value, n };
}

/**
 * simple_strtoull (lib/vsprintf.c): the longest run of digits in `base`
 * (0: auto, see fixup_radix). No digits gives value 0 and `rest` at the
 * first non-digit, as C leaves *endp. No sign is accepted.
 */
export function simple_strtoull(str: string, base = 0): { value: number; rest: string } {
  const f = fixup_radix(str, base);
  const r = parse_integer(f.s, f.base);
  return { value: r.value, rest: f.s.slice(r.n) };
}

/**
 * kstrtoull (lib/kstrtox.c): the whole string must be one number (an
 * optional leading '+', then digits in `base`, then at most a newline).
 * Returns null where Linux returns -EINVAL.
 */
export function kstrtoull(s: string, base = 0): number | null {
  if (s[0] === '+') s = s.slice(1);
  const f = fixup_radix(s, base);
  const r = parse_integer(f.s, f.base);
  if (r.n === 0) return null;
  const rest = f.s.slice(r.n);
  if (rest !== '' && rest !== '\n') return null;
  return r.value;
}

/**
 * memparse (lib/cmdline.c): a number (simple_strtoull, base 0) followed by an
 * optional, case-insensitive suffix: K, M, G, T, P, E for 2^10 .. 2^60.
 * The suffix is consumed; anything after it is left in `rest` for the
 * caller to judge, as Linux leaves it in *retptr.
 */
export function memparse(str: string): { value: number; rest: string } {
  const r = simple_strtoull(str, 0);
  const shift = MEMPARSE_SHIFT[r.rest[0] ?? ''];
  if (shift === undefined) return r;
  return { value: r.value * 2 ** shift, rest: r.rest.slice(1) };
}

const MEMPARSE_SHIFT: Readonly<Record<string, number>> = Object.freeze(Object.assign(
  Object.create(null) as Record<string, number>,
  { K: 10, k: 10, M: 20, m: 20, G: 30, g: 30, T: 40, t: 40, P: 50, p: 50, E: 60, e: 60 }));

/**
 * get_option (lib/cmdline.c): one integer, optionally negative, from the
 * front of a list. `ret` is Linux's return value: 0 no integer found,
 * 1 integer found and nothing follows it that get_option understands,
 * 2 integer followed by ',' (consumed, another follows), 3 integer
 * followed by '-' (a range, see get_options).
 *
 * As in C, the value is truncated to an int.
 */
export function get_option(str: string): { ret: 0 | 1 | 2 | 3; value: number; rest: string } {
  if (str.length === 0) return { ret: 0, value: 0, rest: str };
  const neg = str[0] === '-';
  const cur = neg ? str.slice(1) : str;
  const r = simple_strtoull(cur, 0);
  const value = (neg ? -r.value : r.value) | 0;
  if (r.rest.length === cur.length) return { ret: 0, value, rest: r.rest };
  if (r.rest[0] === ',') return { ret: 2, value, rest: r.rest.slice(1) };
  if (r.rest[0] === '-') return { ret: 3, value, rest: r.rest };
  return { ret: 1, value, rest: r.rest };
}

/** One parameter scanned by next_arg: `param`, and `val` if it had '='. */
export interface CmdlineArg {
  param: string;
  val: string | null;
}

/**
 * next_arg (lib/cmdline.c): split the first whitespace-separated argument
 * off `args`, honouring double quotes. `name=value` splits at the first
 * '=' (an '=' at position 0 does not count, as in C); quotes around the
 * value, or around the whole argument, are dropped; quotes elsewhere stay.
 * `rest` has its leading spaces chewed up.
 *
 *   foo="a b" c   ->  param foo, val 'a b', rest 'c'
 *   "x=1 2"       ->  param x,   val '1 2'
 *   bare          ->  param bare, val null
 */
export function next_arg(args: string): CmdlineArg & { rest: string } {
  let s = args;
  let in_quote = false;
  let quoted = false;
  if (s[0] === '"') {
    s = s.slice(1);
    in_quote = true;
    quoted = true;
  }

  let i = 0;
  let equals = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (isspace(c) && !in_quote) break;
    if (equals === 0 && c === '=') equals = i;
    if (c === '"') in_quote = !in_quote;
  }

  // The argument is s[0, end): C writes NULs into the buffer to shorten it.
  let end = i;
  let param: string;
  let val: string | null;
  if (equals === 0) {
    val = null;
    if (quoted && end > 0 && s[end - 1] === '"') end--;
    param = s.slice(0, end);
  } else {
    param = s.slice(0, equals);
    let vstart = equals + 1;
    // "Don't include quotes in value."
    if (s[vstart] === '"') {
      vstart++;
      if (s[end - 1] === '"') end--;
    }
    // A quote around the whole argument: C clears args[i-1] once more, a
    // no-op when the value's closing quote already took that byte.
    if (quoted && end === i && end > 0 && s[end - 1] === '"') end--;
    val = s.slice(vstart, Math.max(vstart, end));
  }

  const rest = skip_spaces(i < s.length ? s.slice(i + 1) : '');
  return { param, val, rest };
}
