/*
 * tools/fio/rand.ts - fio's random generator and its seeding.
 *
 * Mirrors fio's lib/rand.c (the 32-bit combined Tausworthe generator,
 * taus88, fio's default random_generator=tausworthe) and init.c's
 * setup_random_seeds(): randseed= (default FIO_RANDSEED) is stirred four
 * times by 0x9e370001, then each random stream i of job number n gets
 * seed * n + i, the seed stirred again between streams (64-bit wraparound
 * arithmetic, hence BigInt: it runs once per job). randrepeat=0 without a
 * randseed= takes the seeds from the system's entropy in fio; here they
 * come from the kernel's seed= (the simulated machine's /dev/urandom), so a
 * run stays reproducible. Offsets need not match real fio's bit for bit.
 */

/** fio's random streams (enum in fio.h), the ones this fio uses, in fio's order. */
export const FIO_RAND_BS_OFF = 0;
export const FIO_RAND_MIX_OFF = 4;
export const FIO_RAND_BLOCK_OFF = 6;
export const FIO_RAND_NR_OFFS = 18;

/** struct taus88_state. */
export class Taus88 {
  s1 = 0;
  s2 = 0;
  s3 = 0;

  constructor(seed: number) {
    this.seed(seed);
  }

  /*
   * __init_rand32(): the three components from an LCG over the seed, each
   * kept above its minimum (s1 > 1, s2 > 7, s3 > 15), then six cranks. The
   * LCG's start is fio's (2^31) + (2^17) + (2^7), which C reads as XORs: 53.
   */
  seed(seed: number): void {
    const s = seed >>> 0;
    const lcg = (x: number): number => (Math.imul(x, 69069) ^ s) >>> 0;
    const at_least = (x: number, m: number): number => (x < m ? x + m : x) >>> 0;
    this.s1 = at_least(lcg(53), 1);
    this.s2 = at_least(lcg(this.s1), 7);
    this.s3 = at_least(lcg(this.s2), 15);
    for (let i = 0; i < 6; i++) this.next();
  }

  /** __rand32(): the next 32-bit value. */
  next(): number {
    this.s1 = (((this.s1 & 0xfffffffe) << 12) ^ ((((this.s1 << 13) ^ this.s1) >>> 0) >>> 19)) >>> 0;
    this.s2 = (((this.s2 & 0xfffffff8) << 4) ^ ((((this.s2 << 2) ^ this.s2) >>> 0) >>> 25)) >>> 0;
    this.s3 = (((this.s3 & 0xfffffff0) << 17) ^ ((((this.s3 << 3) ^ this.s3) >>> 0) >>> 11)) >>> 0;
    return (this.s1 ^ this.s2 ^ this.s3) >>> 0;
  }
}

/** rand_max() of the 32-bit generator. */
export const FRAND32_MAX = 0xffffffff;

/** rand_between(state, start, end): fio's uniform integer in [start, end]. */
export function rand_between(st: Taus88, start: number, end: number): number {
  const r = st.next();
  return start + Math.floor((r / (FRAND32_MAX + 1)) * (end - start + 1));
}

const M64 = (1n << 64n) - 1n;
const STIR = 0x9e370001n;

/**
 * setup_random_seeds(): the job's seeds, one per random stream.
 * `thread_number` counts jobs from 1, as fio's does.
 */
export function fio_rand_seeds(randseed: number, thread_number: number): bigint[] {
  let seed = BigInt(randseed) & M64;
  for (let i = 0; i < 4; i++) seed = (seed * STIR) & M64;
  const out: bigint[] = [];
  for (let i = 0; i < FIO_RAND_NR_OFFS; i++) {
    out.push((seed * BigInt(thread_number) + BigInt(i)) & M64);
    seed = (seed * STIR) & M64;
  }
  return out;
}

/** init_rand_seed() for the 32-bit generator: the low 32 bits of the stream's seed. */
export function init_rand_seed(seed: bigint): Taus88 {
  return new Taus88(Number(seed & 0xffffffffn));
}
