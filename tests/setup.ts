/*
 * Test setup: deterministic property tests (FC_SEED=<n> to explore other
 * seeds, as a developer chasing a bug would) and a quiet console.
 */
import fc from 'fast-check';
import { printk_state } from '../kernel/printk.ts';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 0x5eed;
fc.configureGlobal({ seed });
printk_state.console_loglevel = Number(process.env.LOGLEVEL ?? 0);
printk_state.console_loglevel_cap = printk_state.console_loglevel;
