import { start_kernel } from '../../init/main.ts';
import { asi_oracle_install, asi_oracle_check_cpu } from './asi_oracle.ts';
import { asi_oracle_workload } from './asi_oracle_workload.ts';
import { kunit_activate_syscall_stub, __NR_kunit } from '../../tests/fs/helpers.ts';
import { smp_processor_id } from '../../kernel/smp.ts';
const k = start_kernel('mem=64M cpus=2 asi=on');
asi_oracle_install(k, { force: true });
kunit_activate_syscall_stub(__NR_kunit, () => {
  const c = smp_processor_id();
  for (let i = 0; i < 2000; i++) asi_oracle_check_cpu(c);
  const t0 = performance.now();
  for (let i = 0; i < 5000; i++) asi_oracle_check_cpu(c);
  console.log('per check', ((performance.now() - t0) * 1000 / 5000).toFixed(1), 'us');
  return 0;
});
asi_oracle_workload(k, { nproc: 2, rounds: 4 });
k.spawn('m', function* (u) {
  const fd = yield* u.open('/m', 0o102, 0o644);
  const b = yield* u.mmap(0, 8192, 3, 0x22);
  yield* u.pwrite64(fd, b, 8192, 0);
  yield* u.pread64(fd, b, 4096, 0);
  yield* u.syscall(__NR_kunit);
  return 0;
});
k.run();
