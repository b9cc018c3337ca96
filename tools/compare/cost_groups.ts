/*
 * tools/compare/cost_groups.ts - where a cost key's cycles went.
 *
 * No Linux counterpart: the groups tools/compare and the HTML report
 * (tools/report) sum the cost keys into, by the keys' names, so keys a
 * later kernel adds land in a group without a change here.
 */
/** Where a cost key's cycles went, by its name (unknown keys: "other kernel"). */
export const COST_GROUPS: [string, RegExp][] = [
  ['user', /^(user_work|fio_)/],
  ['syscall entry/exit', /^(syscall|sysret|syscall_work)$/],
  ['copy', /^(copy_|fill_|line_)/],
  ['exits and mitigations', /^(asi|ibpb|rsb_fill|l1d_flush|verw|exception|ipi_)/],
  ['TLB refill and flush', /^(walk_step|tlb_|invlpg|invpcid|cr3_|cr4_)/],
];
export const OTHER_GROUP = 'other kernel';

export function cost_group(key: string): string {
  for (const [g, re] of COST_GROUPS) if (re.test(key)) return g;
  return OTHER_GROUP;
}

