/*
 * tests/kernel/signal.test.ts - rt_sigaction, rt_sigprocmask, kill, tgkill,
 * handlers on return to user, rt_sigreturn, SIGCHLD, fault signals
 * (KUnit-style suites kernel_signal_*).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { start_kernel } from '../../init/main.ts';
import { type Nolibc, WEXITSTATUS, WTERMSIG } from '../../tools/include/nolibc.ts';
import {
  SIGUSR1, SIGUSR2, SIGKILL, SIGSTOP, SIGTERM, SIGCHLD, SIGSEGV, SIG_IGN, SIG_DFL, SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK,
  SA_SIGINFO, SA_RESTART, SA_RESETHAND, SA_NODEFER, SA_RESTORER, SEGV_MAPERR, CLD_EXITED, SI_USER, SI_TKILL,
} from '../../include/uapi/asm-generic/signal.ts';
import { EINVAL, EFAULT, ESRCH, EINTR, ECHILD } from '../../include/uapi/asm-generic/errno.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { SC_RAX, SC_RIP, SC_RSP } from '../../arch/x86/kernel/signal.ts';
import { force_sig, SIGBUS } from '../../kernel/signal.ts';
import { BUS_ADRERR } from '../../include/uapi/asm-generic/signal.ts';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const bit = (s: number): number => (s <= 32 ? (1 << (s - 1)) >>> 0 : 0);

function boot(cpus = 1) {
  return start_kernel(`mem=64M cpus=${cpus} seed=1`);
}

describe('kernel_signal_handler', () => {
  it('a handler runs on the way back from kill(self), with the signal blocked, and rt_sigreturn restores rax and the mask', () => {
    const k = boot();
    const seen: number[] = [];
    let mask_in_handler = -1;
    let kill_ret = -1;
    let mask_after = -1;
    k.spawn('h', function* (u: Nolibc) {
      expect(yield* u.sigaction(SIGUSR1, function* (hu: Nolibc, sig: number) {
        seen.push(sig);
        mask_in_handler = (yield* hu.sigprocmask(SIG_BLOCK, null))[1];
      }, 0, [SIGUSR2])).toBe(0);
      kill_ret = yield* u.kill(yield* u.getpid(), SIGUSR1);
      mask_after = (yield* u.sigprocmask(SIG_BLOCK, null))[1];
      return 0;
    });
    const r = k.run();
    expect(r.exited[0].status).toBe(0);
    expect(seen).toEqual([SIGUSR1]);
    expect(mask_in_handler).toBe(bit(SIGUSR1) | bit(SIGUSR2));
    expect(kill_ret).toBe(0);
    expect(mask_after).toBe(0);
    k.shutdown();
  });

  it('SA_NODEFER leaves the signal unblocked in its handler; SA_SIGINFO fills si_signo, si_code and si_pid', () => {
    const k = boot();
    let mask = -1;
    let info: number[] = [];
    k.spawn('h', function* (u: Nolibc) {
      yield* u.sigaction(SIGUSR1, function* (hu: Nolibc, _sig: number, si: number) {
        mask = (yield* hu.sigprocmask(SIG_BLOCK, null))[1];
        info = [hu.peek32(si), hu.peek32(si + 8), hu.peek32(si + 16)];
      }, SA_NODEFER | SA_SIGINFO);
      yield* u.kill(yield* u.getpid(), SIGUSR1);
      return 0;
    });
    const pid = 1;
    k.run();
    expect(mask).toBe(0);
    expect(info).toEqual([SIGUSR1, SI_USER, pid]);
    k.shutdown();
  });

  it('the handler can change the saved rax in its frame: rt_sigreturn returns what the frame holds', () => {
    const k = boot();
    let ret = 0;
    k.spawn('h', function* (u: Nolibc) {
      yield* u.sigaction(SIGUSR1, function* (hu: Nolibc, _sig: number, _si: number, uc: number) {
        const frame = uc - 8;
        hu.poke32(frame + SC_RAX, 1234);
      });
      ret = yield* u.kill(yield* u.getpid(), SIGUSR1);
      return 0;
    });
    k.run();
    expect(ret).toBe(1234);
    k.shutdown();
  });

  it('a frame the handler corrupted: a bad rip is SIGSEGV at rt_sigreturn, a bad rsp is SIGSEGV at the next frame, never a host exception', () => {
    for (const field of [SC_RIP, SC_RSP]) {
      const k = boot();
      let after = 0;
      k.spawn('h', function* (u: Nolibc) {
        yield* u.sigaction(SIGUSR1, function* (hu: Nolibc, _s: number, _si: number, uc: number) {
          hu.poke64(uc - 8 + field, 0x7fff_dead_0000);
        });
        const me = yield* u.getpid();
        yield* u.kill(me, SIGUSR1);
        after++;
        yield* u.kill(me, SIGUSR1);
        after++;
        return 0;
      });
      const r = k.run();
      expect(r.exited[0].status).toBe(128 + SIGSEGV);
      expect(after).toBe(field === SC_RIP ? 0 : 1);
      k.shutdown();
    }
  });

  it('a blocked signal stays pending, and is delivered when rt_sigprocmask unblocks it', () => {
    const k = boot();
    const log: string[] = [];
    k.spawn('h', function* (u: Nolibc) {
      yield* u.sigaction(SIGUSR1, function* () { log.push('handler'); });
      yield* u.sigprocmask(SIG_BLOCK, [SIGUSR1]);
      yield* u.kill(yield* u.getpid(), SIGUSR1);
      yield* u.kill(yield* u.getpid(), SIGUSR1); // a legacy signal does not queue twice
      log.push('still blocked');
      const [r, old] = yield* u.sigprocmask(SIG_UNBLOCK, [SIGUSR1]);
      log.push(`unblocked ${r} ${old}`);
      return 0;
    });
    k.run();
    expect(log).toEqual(['still blocked', 'handler', `unblocked 0 ${bit(SIGUSR1)}`]);
    k.shutdown();
  });

  it('SA_RESETHAND: the second SIGUSR1 takes the default action and kills', () => {
    const k = boot();
    let runs = 0;
    k.spawn('h', function* (u: Nolibc) {
      yield* u.sigaction(SIGUSR1, function* () { runs++; }, SA_RESETHAND);
      const me = yield* u.getpid();
      yield* u.kill(me, SIGUSR1);
      yield* u.kill(me, SIGUSR1);
      return 0;
    });
    const r = k.run();
    expect(runs).toBe(1);
    expect(r.exited[0].status).toBe(128 + SIGUSR1);
    expect(r.exited[0].signal).toBe(SIGUSR1);
    k.shutdown();
  });

  it('SIG_IGN drops a signal; SIG_DFL of SIGTERM from another process kills it (wait4 sees WTERMSIG)', () => {
    const k = boot(2);
    let status = -1;
    k.spawn('parent', function* (u: Nolibc) {
      yield* u.sigaction(SIGUSR1, SIG_IGN);
      yield* u.kill(yield* u.getpid(), SIGUSR1); // ignored
      const child = yield* u.clone(SIGCHLD, function* (c: Nolibc) {
        for (;;) yield* c.nanosleep(1e6);
      });
      yield* u.nanosleep(2e6);
      expect(yield* u.kill(child, SIGTERM)).toBe(0);
      const [w, st] = yield* u.waitpid(child);
      expect(w).toBe(child);
      status = st;
      return 0;
    });
    const r = k.run();
    expect(r.exited[0].status).toBe(0);
    expect(WTERMSIG(status)).toBe(SIGTERM);
    k.shutdown();
  });

  it('a signal interrupts nanosleep: -EINTR without SA_RESTART, a restarted sleep with it', () => {
    for (const restart of [false, true]) {
      const k = boot(2);
      let slept = 0;
      let handled = 0;
      k.spawn('sleeper', function* (u: Nolibc) {
        yield* u.sigaction(SIGUSR1, function* () { handled++; }, restart ? SA_RESTART : 0);
        const t0 = u.clock_gettime_ns();
        slept = yield* u.nanosleep(10e6);
        return u.clock_gettime_ns() - t0 >= 10e6 ? 1 : 2;
      });
      k.spawn('killer', function* (u: Nolibc) {
        yield* u.nanosleep(1e6);
        return (yield* u.kill(1, SIGUSR1)) === 0 ? 0 : 3;
      });
      const r = k.run();
      expect(handled).toBe(1);
      expect(slept).toBe(restart ? 0 : -EINTR);
      expect(r.exited.find((e) => e.comm === 'sleeper')!.status).toBe(restart ? 1 : 2);
      k.shutdown();
    }
  });
});

describe('kernel_signal_sigchld', () => {
  it('a child exit sends SIGCHLD with CLD_EXITED, its pid and status; wait4 still reaps it', () => {
    const k = boot(2);
    let info: number[] = [];
    let waited: [number, number] = [0, 0];
    let child = 0;
    k.spawn('make', function* (u: Nolibc) {
      yield* u.sigaction(SIGCHLD, function* (hu: Nolibc, _s: number, si: number) {
        info = [hu.peek32(si), hu.peek32(si + 8), hu.peek32(si + 16), hu.peek32(si + 24)];
      }, SA_SIGINFO | SA_RESTART);
      child = yield* u.clone(SIGCHLD, function* () { return 7; });
      waited = yield* u.waitpid(child);
      return 0;
    });
    k.run();
    expect(info).toEqual([SIGCHLD, CLD_EXITED, child, 7]);
    expect(waited[0]).toBe(child);
    expect(WEXITSTATUS(waited[1])).toBe(7);
    k.shutdown();
  });

  it('a parent ignoring SIGCHLD keeps no zombies: wait4 finds no child (-ECHILD)', () => {
    const k = boot(2);
    let w = 0;
    k.spawn('p', function* (u: Nolibc) {
      yield* u.sigaction(SIGCHLD, SIG_IGN);
      const c = yield* u.clone(SIGCHLD, function* () { return 1; });
      yield* u.nanosleep(1e6);
      w = (yield* u.waitpid(c))[0];
      return 0;
    });
    k.run();
    expect(w).toBe(-ECHILD);
    k.shutdown();
  });

  it('clone without CSIGNAL sends nothing: a SIGCHLD handler does not run', () => {
    const k = boot(2);
    let runs = 0;
    k.spawn('p', function* (u: Nolibc) {
      yield* u.sigaction(SIGCHLD, function* () { runs++; }, SA_RESTART);
      const c = yield* u.clone(0, function* () { return 1; });
      yield* u.waitpid(c);
      return 0;
    });
    k.run();
    expect(runs).toBe(0);
    k.shutdown();
  });
});

describe('kernel_signal_fault', () => {
  it('SIGSEGV goes to an installed handler with si_addr and SEGV_MAPERR; the handler may exit', () => {
    const k = boot();
    let info: number[] = [];
    const bad = 0x10000000;
    k.spawn('segv', function* (u: Nolibc) {
      yield* u.sigaction(SIGSEGV, function* (hu: Nolibc, _s: number, si: number) {
        info = [hu.peek32(si), hu.peek32(si + 8), hu.peek64(si + 16)];
        yield* hu.exit_group(42);
      }, SA_SIGINFO);
      u.poke32(bad, 1);
      return 0;
    });
    const r = k.run();
    expect(info).toEqual([SIGSEGV, SEGV_MAPERR, bad]);
    expect(r.exited[0].status).toBe(42);
    k.shutdown();
  });

  it('a fault while SIGSEGV is blocked is fatal (force_sig_fault), and so is returning into the faulting access', () => {
    for (const how of ['blocked', 'return'] as const) {
      const k = boot();
      let runs = 0;
      k.spawn('segv', function* (u: Nolibc) {
        yield* u.sigaction(SIGSEGV, function* () { runs++; });
        if (how === 'blocked') yield* u.sigprocmask(SIG_BLOCK, [SIGSEGV]);
        u.poke32(0x10000000, 1);
        return 0;
      });
      const r = k.run();
      expect(runs).toBe(how === 'blocked' ? 0 : 1);
      expect(r.exited[0].status).toBe(128 + SIGSEGV);
      k.shutdown();
    }
  });
});

describe('kernel_signal_fault_bus', () => {
  it('force_sig_fault(SIGBUS) (a fault past a file mapping\'s end) reaches a SIGBUS handler with si_addr', () => {
    const k = boot();
    let info: number[] = [];
    k.spawn('bus', function* (u: Nolibc) {
      yield* u.sigaction(SIGBUS, function* (hu: Nolibc, _s: number, si: number) {
        info = [hu.peek32(si), hu.peek32(si + 8), hu.peek64(si + 16)];
        yield* hu.exit_group(9);
      }, SA_SIGINFO);
      force_sig(SIGBUS, 'test: bus error', 0x20000000, BUS_ADRERR); // what do_user_addr_fault() raises for VM_FAULT_SIGBUS
      return 0;
    });
    const r = k.run();
    expect(info).toEqual([SIGBUS, BUS_ADRERR, 0x20000000]);
    expect(r.exited[0].status).toBe(9);
    k.shutdown();
  });
});

describe('kernel_signal_threads', () => {
  it('kill() to a process goes to a thread that does not block it; CLONE_SIGHAND threads share the handler', () => {
    const k = boot(2);
    const ran_in: number[] = [];
    let tid = 0;
    k.spawn('mt', function* (u: Nolibc) {
      const b = yield* u.mmap(0, 4096, RW, ANON);
      u.poke32(b, 0);
      yield* u.sigprocmask(SIG_BLOCK, [SIGUSR1]); // the thread inherits this mask
      tid = yield* u.clone(0x100 | 0x400 | 0x800 | 0x10000, function* (t: Nolibc) {
        yield* t.sigprocmask(SIG_UNBLOCK, [SIGUSR1]);
        t.poke32(b, 1);
        while (t.peek32(b) !== 2) yield* t.sched_yield();
        return 0;
      });
      // Installed after the clone: the thread sees it (shared sighand).
      yield* u.sigaction(SIGUSR1, function* (hu: Nolibc) {
        ran_in.push(yield* hu.gettid());
        hu.poke32(b, 2);
      });
      while (u.peek32(b) !== 1) yield* u.sched_yield();
      yield* u.kill(yield* u.getpid(), SIGUSR1);
      while (u.peek32(b) !== 2) yield* u.sched_yield();
      return 0;
    });
    const r = k.run();
    expect(r.reason).toBe('done');
    expect(ran_in).toEqual([tid]);
    k.shutdown();
  });
});

describe('kernel_signal_errno', () => {
  it('rt_sigaction: EINVAL for 0, 65, SIGKILL, SIGSTOP and a bad sigsetsize; EFAULT for a bad act; oact reads back', () => {
    const k = boot();
    const got: number[] = [];
    let old: number[] = [];
    k.spawn('e', function* (u: Nolibc) {
      const a = yield* u.mmap(0, 4096, RW, ANON);
      u.put_sigaction(a, SIG_IGN, 0);
      got.push(yield* u.rt_sigaction(0, a, 0));
      got.push(yield* u.rt_sigaction(65, a, 0));
      got.push(yield* u.rt_sigaction(SIGKILL, a, 0));
      got.push(yield* u.rt_sigaction(SIGSTOP, a, 0));
      got.push(yield* u.rt_sigaction(SIGKILL, 0, a + 64)); // reading SIGKILL's action is fine
      got.push(yield* u.rt_sigaction(SIGUSR1, a, 0, 4));
      got.push(yield* u.rt_sigaction(SIGUSR1, 0x7000_0000_0000, 0));
      u.put_sigaction(a, SIG_IGN, SA_RESTART, [SIGUSR2]);
      got.push(yield* u.rt_sigaction(SIGUSR1, a, 0));
      got.push(yield* u.rt_sigaction(SIGUSR1, 0, a + 64));
      old = [u.peek64(a + 64), u.peek64(a + 72), u.peek32(a + 88)];
      got.push(yield* u.rt_sigaction(SIGUSR1, 0, 0x7000_0000_0000));
      return 0;
    });
    k.run();
    expect(got).toEqual([-EINVAL, -EINVAL, -EINVAL, -EINVAL, 0, -EINVAL, -EFAULT, 0, 0, -EFAULT]);
    expect(old).toEqual([SIG_IGN, SA_RESTART, bit(SIGUSR2)]);
    k.shutdown();
  });

  it('rt_sigprocmask: EINVAL for a bad how or sigsetsize, EFAULT for bad pointers; SIGKILL cannot be blocked', () => {
    const k = boot();
    const got: number[] = [];
    let mask = -1;
    k.spawn('e', function* (u: Nolibc) {
      const a = yield* u.mmap(0, 4096, RW, ANON);
      u.poke32(a, 0xffffffff);
      u.poke32(a + 4, 0xffffffff);
      got.push(yield* u.rt_sigprocmask(3, a, 0));
      got.push(yield* u.rt_sigprocmask(SIG_BLOCK, a, 0, 16));
      got.push(yield* u.rt_sigprocmask(SIG_BLOCK, 0x7000_0000_0000, 0));
      got.push(yield* u.rt_sigprocmask(SIG_BLOCK, 0, 0x7000_0000_0000));
      got.push(yield* u.rt_sigprocmask(SIG_SETMASK, a, 0));
      [, mask] = yield* u.sigprocmask(SIG_BLOCK, null);
      return 0;
    });
    k.run();
    expect(got).toEqual([-EINVAL, -EINVAL, -EFAULT, -EFAULT, 0]);
    expect(mask).toBe((0xffffffff & ~bit(SIGKILL) & ~bit(SIGSTOP)) >>> 0);
    k.shutdown();
  });

  it('kill and tgkill: EINVAL for a bad signal or ids, ESRCH for no such process or a thread of another one, 0 for sig 0', () => {
    const k = boot();
    const got: number[] = [];
    let tinfo: number[] = [];
    k.spawn('e', function* (u: Nolibc) {
      const me = yield* u.getpid();
      got.push(yield* u.kill(me, 65));
      got.push(yield* u.kill(me, -1));
      got.push(yield* u.kill(99999, 0));
      got.push(yield* u.kill(me, 0));
      got.push(yield* u.kill(-1, 0)); // nobody else
      got.push(yield* u.tgkill(0, me, SIGUSR1));
      got.push(yield* u.tgkill(me, 0, SIGUSR1));
      got.push(yield* u.tgkill(me + 1, me, SIGUSR1));
      got.push(yield* u.tgkill(me, me, 65));
      yield* u.sigaction(SIGUSR1, function* (hu: Nolibc, _s: number, si: number) {
        tinfo = [hu.peek32(si + 8) | 0];
      }, SA_SIGINFO);
      got.push(yield* u.tgkill(me, me, SIGUSR1));
      return 0;
    });
    k.run();
    expect(got).toEqual([-EINVAL, -EINVAL, -ESRCH, 0, -ESRCH, -EINVAL, -EINVAL, -ESRCH, -EINVAL, 0]);
    expect(tinfo).toEqual([SI_TKILL]);
    k.shutdown();
  });

  it('kill() of a zombie not yet reaped succeeds and does nothing; after wait4 it is ESRCH', () => {
    const k = boot(2);
    const got: number[] = [];
    k.spawn('p', function* (u: Nolibc) {
      const c = yield* u.clone(SIGCHLD, function* () { return 4; });
      yield* u.nanosleep(2e6); // the child is a zombie by now
      got.push(yield* u.kill(c, SIGTERM));
      const [, st] = yield* u.waitpid(c);
      got.push(WEXITSTATUS(st));
      got.push(yield* u.kill(c, 0));
      return 0;
    });
    k.run();
    expect(got).toEqual([0, 4, -ESRCH]);
    k.shutdown();
  });

  it('rt_sigreturn with no frame (a task that took no signal) is SIGSEGV', () => {
    const k = boot();
    k.spawn('e', function* (u: Nolibc) {
      yield* u.rt_sigreturn();
      return 0;
    });
    const r = k.run();
    expect(r.exited[0].status).toBe(128 + SIGSEGV);
    k.shutdown();
  });

  it('a handler without SA_RESTORER cannot get a frame on x86-64: SIGSEGV', () => {
    const k = boot();
    let runs = 0;
    k.spawn('e', function* (u: Nolibc) {
      const a = yield* u.mmap(0, 4096, RW, ANON);
      u.put_sigaction(a, u.handler_addr(function* () { runs++; }), 0);
      yield* u.rt_sigaction(SIGUSR1, a, 0);
      yield* u.kill(yield* u.getpid(), SIGUSR1);
      return 0;
    });
    const r = k.run();
    expect(runs).toBe(0);
    expect(r.exited[0].status).toBe(128 + SIGSEGV);
    void SA_RESTORER;
    void SIG_DFL;
    k.shutdown();
  });
});

/*
 * The reference model of delivery for one task whose handlers only record:
 * after every syscall (the ops, and each handler's rt_sigreturn) the
 * pending signals not blocked are dequeued lowest first, each pushing a
 * frame that saves the mask and blocks its signal; the top frame's
 * handler runs first and its sigreturn restores the saved mask.
 * Legacy signals coalesce, real-time ones queue.
 */
type Op = ['block' | 'unblock' | 'kill' | 'unblock_all', number];

function model_run(ops: Op[]): number[] {
  const blocked = new Set<number>();
  const pending = new Map<number, number>();
  const log: number[] = [];
  const frames: { sig: number; saved: Set<number> }[] = [];
  const return_to_user = (): void => {
    for (;;) {
      const ready = [...pending.keys()].filter((s) => !blocked.has(s)).sort((a, b) => a - b);
      if (!ready.length) break;
      const s = ready[0];
      const n = pending.get(s)! - 1;
      if (n) pending.set(s, n);
      else pending.delete(s);
      frames.push({ sig: s, saved: new Set(blocked) });
      blocked.add(s);
    }
    // Run the top frame's handler to its sigreturn, which is a syscall too.
    const f = frames.pop();
    if (!f) return;
    log.push(f.sig);
    blocked.clear();
    for (const x of f.saved) blocked.add(x);
    return_to_user();
  };
  for (const [op, s] of ops) {
    if (op === 'block') blocked.add(s);
    else if (op === 'unblock') blocked.delete(s);
    else if (op === 'unblock_all') blocked.clear();
    else if (s >= 32 || !pending.has(s)) pending.set(s, (pending.get(s) ?? 0) + 1);
    return_to_user();
  }
  return log;
}

describe('kernel_signal_model', () => {
  it('random block/unblock/kill sequences deliver as the reference model says (order, nesting, coalescing, RT queueing)', () => {
    const sigs = [SIGUSR1, SIGUSR2, 32, 33];
    const op = fc.tuple(fc.constantFrom('block' as const, 'unblock' as const, 'kill' as const, 'kill' as const), fc.constantFrom(...sigs));
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 24 }), (ops) => {
      const k = boot();
      const log: number[] = [];
      k.spawn('m', function* (u: Nolibc) {
        for (const s of sigs) yield* u.sigaction(s, function* (_hu: Nolibc, sig: number) { log.push(sig); });
        const me = yield* u.getpid();
        for (const [o, s] of ops) {
          if (o === 'kill') yield* u.kill(me, s);
          else yield* u.sigprocmask(o === 'block' ? SIG_BLOCK : SIG_UNBLOCK, [s]);
        }
        yield* u.sigprocmask(SIG_SETMASK, []); // what is still pending is delivered now
        return 0;
      });
      const r = k.run();
      k.shutdown();
      expect(r.exited[0].status).toBe(0);
      const want = model_run([...ops, ['unblock_all', 0]]);
      expect(log).toEqual(want);
    }), { numRuns: 40, seed: 20 });
  });
});
