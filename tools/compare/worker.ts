/*
 * tools/compare/worker.ts - a worker thread that runs samples.
 *
 * No Linux counterpart. Receives SampleTasks, boots a kernel for each in
 * turn (every boot starts from nothing, so a sample's result does not
 * depend on what ran before it in this thread) and posts back each
 * SampleResult; exits when told to.
 */
import { parentPort } from 'node:worker_threads';
import { printk_state } from '../../kernel/printk.ts';
import { run_sample, type SampleTask } from './sample.ts';

printk_state.console_loglevel = 0;
const port = parentPort;
if (port) {
  port.on('message', (m: { task?: SampleTask; idx?: number; exit?: boolean }) => {
    if (m.exit || !m.task) {
      port.close();
      return;
    }
    port.postMessage({ idx: m.idx, result: run_sample(m.task) });
  });
}
