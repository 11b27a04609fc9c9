/** What the main thread and the io-uring worker send each other. */
import type { ServerCounters } from '../strategy.js';

export type UringMessage =
  | { readonly type: 'ready'; readonly setupFlags: number; readonly features: number }
  | { readonly type: 'counters'; readonly counters: ServerCounters }
  | { readonly type: 'stopped'; readonly counters: ServerCounters }
  | { readonly type: 'fatal'; readonly message: string; readonly code?: string };
