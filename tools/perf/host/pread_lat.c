/*
 * tools/perf/host/pread_lat.c - a hot tmpfs pread and its neighbours, timed on the host.
 *
 * No Linux counterpart (the nearest is tools/testing/selftests' timing
 * loops). Documentation/costs.md ("Measured: a hot pread on a Zen 4 guest")
 * derives the model's kernel-path factor from what this prints, so the
 * figures there can be re-measured:
 *
 *   gcc -O2 -o /tmp/pread_lat tools/perf/host/pread_lat.c && taskset -c 1 /tmp/pread_lat [/dev/shm]
 *
 * Each figure is the 10th percentile over 3000 batches of 200 calls, in TSC
 * cycles (rdtsc), so a loaded machine's preemptions fall out. It prints:
 *  - the core clock over the TSC (a chain of dependent adds, 1 cycle each);
 *  - getpid, a hot 4 KiB pread of a 64 KiB tmpfs file, the same for 1 and 0
 *    bytes and past EOF (which stop before the copy, before the folio);
 *  - a user rep movsb of 4 KiB;
 *  - what this machine's two per-return/per-call mitigations cost (see
 *    /sys/devices/system/cpu/vulnerabilities): a return through an
 *    SRSO "safe RET" thunk (spec_rstack_overflow: Safe RET) and an indirect
 *    call through a retpoline (spectre_v2: Retpolines), each against a
 *    plain one, as user-space copies of the kernel's thunks.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <x86intrin.h>

#define BATCH 200
#define ROUNDS 3000

static char buf[4096] __attribute__((aligned(4096)));
static char src[4096] __attribute__((aligned(4096)));
static int fd;
static double samp[ROUNDS];

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static inline void movsb(void *d, const void *s, size_t n)
{
	asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

/* The kernel's return thunk for SRSO "safe RET" and its retpoline, as user code. */
asm(".text\n"
    "safe_ret: lea 8(%rsp),%rsp\n ret\n int3\n"
    "ret_thunk: call safe_ret\n ud2\n"
    "retpo_rax: call 1f\n 2: pause\n lfence\n jmp 2b\n 1: mov %rax,(%rsp)\n ret\n"
    "leaf: ret\n");
#define CHAIN(P, RET) \
	asm(#P "0: call " #P "1\n " RET "\n" #P "1: call " #P "2\n " RET "\n" \
	    #P "2: call " #P "3\n " RET "\n" #P "3: call " #P "4\n " RET "\n" \
	    #P "4: call " #P "5\n " RET "\n" #P "5: call " #P "6\n " RET "\n" \
	    #P "6: call " #P "7\n " RET "\n" #P "7: " RET "\n");
CHAIN(plain_chain, "ret")
CHAIN(safe_chain, "jmp ret_thunk")
asm("ind_plain: lea leaf(%rip),%rax\n .rept 8\n call *%rax\n .endr\n ret\n"
    "ind_retpo: lea leaf(%rip),%rax\n .rept 8\n call retpo_rax\n .endr\n ret\n");
void plain_chain0(void), safe_chain0(void), ind_plain(void), ind_retpo(void);

enum { GETPID, PREAD_4K, PREAD_1B, PREAD_0B, PREAD_EOF, MOVSB_4K, PLAIN, SAFE, IND, RETPO, NR_CASES };
static const char *names[NR_CASES] = {
	"getpid", "pread 4K hot", "pread 1B hot", "pread 0B hot", "pread past EOF",
	"user rep movsb 4K", "8 call/ret plain", "8 call/ret safe-RET", "8 indirect plain", "8 indirect retpoline",
};

static double run(int k)
{
	for (int r = 0; r < ROUNDS; r++) {
		unsigned long long t = __rdtsc();
		for (int i = 0; i < BATCH; i++) {
			switch (k) {
			case GETPID: syscall(SYS_getpid); break;
			case PREAD_4K: pread(fd, buf, 4096, 0); break;
			case PREAD_1B: pread(fd, buf, 1, 0); break;
			case PREAD_0B: pread(fd, buf, 0, 0); break;
			case PREAD_EOF: pread(fd, buf, 4096, 1 << 20); break;
			case MOVSB_4K: movsb(buf, src, 4096); break;
			case PLAIN: plain_chain0(); break;
			case SAFE: safe_chain0(); break;
			case IND: ind_plain(); break;
			case RETPO: ind_retpo(); break;
			}
		}
		samp[r] = (double)(__rdtsc() - t) / BATCH;
	}
	qsort(samp, ROUNDS, sizeof(double), cmp);
	return samp[ROUNDS / 10];
}

static double core_per_tsc(void)
{
	for (int r = 0; r < 500; r++) {
		unsigned long long t = __rdtsc();
		long x = 0;
		asm volatile("mov $100000,%%ecx\n1:\n .rept 20\n add $1,%0\n .endr\n dec %%ecx\n jnz 1b\n"
			     : "+r"(x) : : "rcx");
		samp[r] = (double)(__rdtsc() - t) / 2e6;
	}
	qsort(samp, 500, sizeof(double), cmp);
	return 1 / samp[50];
}

int main(int argc, char **argv)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/pread_lat.%d", argc > 1 ? argv[1] : "/dev/shm", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) { perror(path); return 1; }
	memset(buf, 1, sizeof(buf));
	for (int i = 0; i < 16; i++)
		pwrite(fd, buf, 4096, (off_t)i * 4096);
	double f = core_per_tsc();
	printf("core clock / TSC: %.3f\n", f);
	double v[NR_CASES];
	for (int k = 0; k < NR_CASES; k++) {
		v[k] = run(k);
		printf("%-22s %7.1f TSC cycles %7.1f core cycles\n", names[k], v[k], v[k] * f);
	}
	printf("safe-RET per return %.1f TSC cycles, retpoline per indirect call %.1f\n",
	       (v[SAFE] - v[PLAIN]) / 8, (v[RETPO] - v[IND]) / 8);
	unlink(path);
	return 0;
}
