/*
 * lib/prandom.ts - the kernel's seeded pseudo-random generator.
 *
 * Mirrors lib/random32.c's prandom_u32_state(): L'Ecuyer's maximally
 * equidistributed combined Tausworthe generator (LFSR113), seeded the way
 * prandom_seed_state() does it. This is the only randomness kernel and
 * machine code may use: a seed gives the same sequence on every run.
 * seed=, the boot parameter every seeded user starts from, is registered
 * here (tskernel's own: Linux seeds from hardware entropy).
 */
import { register_param, parse_uint } from '../kernel/params.ts';

declare module '../kernel/params.ts' {
  interface KernelParams {
    /** seed=: the one PRNG's seed, a u32. */
    seed: number;
  }
}

/** seed= when none is given. */
export const DEFAULT_SEED = 1;

/*
 * seed=<u32> (no Linux counterpart): where each boot's RndStates start
 * (vmalloc's, fail_page_alloc's), so that the same command line and seed
 * replay the same run byte for byte.
 */
register_param({
  name: 'seed', value: 'required',
  help: `seed=<u32> seed of the PRNG; the same command line and seed replay byte for byte. [${DEFAULT_SEED}]`,
  set_default: (out) => { out.seed = DEFAULT_SEED; },
  parse: (val, out) => { out.seed = parse_uint('seed', 'seed', val!, 0, 0xffffffff); },
  format: (p) => (p.seed !== DEFAULT_SEED ? `seed=${p.seed}` : null),
});

export class RndState {
  s1 = 0;
  s2 = 0;
  s3 = 0;
  s4 = 0;

  constructor(seed: number) {
    prandom_seed_state(this, seed);
  }
}

/* Each component needs a minimum value (the LFSR's degree constraint). */
function seed_min(x: number, m: number): number {
  x >>>= 0;
  return x < m ? (x + m) >>> 0 : x;
}

/** prandom_seed_state: expand a seed into the four components, then warm up. */
export function prandom_seed_state(st: RndState, seed: number): void {
  // Spread the seed as Linux does with its 64-bit multiply; here in 32-bit halves.
  const i = (Math.imul(seed >>> 0, 0x9e3779b9) ^ (seed / 4294967296)) >>> 0;
  st.s1 = seed_min(i, 2);
  st.s2 = seed_min(Math.imul(i, 69069) + 1, 8);
  st.s3 = seed_min(Math.imul(i ^ 0x5bd1e995, 1664525) + 1013904223, 16);
  st.s4 = seed_min(Math.imul(i, 22695477) + 1, 128);
  for (let k = 0; k < 10; k++) prandom_u32_state(st);
}

/** One 32-bit output (unsigned). */
export function prandom_u32_state(st: RndState): number {
  st.s1 = (((st.s1 & 4294967294) << 18) ^ (((st.s1 << 6) ^ st.s1) >>> 13)) >>> 0;
  st.s2 = (((st.s2 & 4294967288) << 2) ^ (((st.s2 << 2) ^ st.s2) >>> 27)) >>> 0;
  st.s3 = (((st.s3 & 4294967280) << 7) ^ (((st.s3 << 13) ^ st.s3) >>> 21)) >>> 0;
  st.s4 = (((st.s4 & 4294967168) << 13) ^ (((st.s4 << 3) ^ st.s4) >>> 12)) >>> 0;
  return (st.s1 ^ st.s2 ^ st.s3 ^ st.s4) >>> 0;
}

/** get_random_u32_below(ceil): uniform in [0, ceil) by multiply-shift. */
export function prandom_u32_below(st: RndState, ceil: number): number {
  return Math.floor((prandom_u32_state(st) / 4294967296) * ceil);
}
