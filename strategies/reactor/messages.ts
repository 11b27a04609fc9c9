/** What the main thread and a reactor worker send each other (piscina's src/types.ts idea). */
import type { ProtocolSpec } from '../../core/protocol.js';
import type { SelectorKind } from '../selectors/index.js';
import type { StrategyOptions } from '../../core/strategy.js';

/** Which readiness loop a worker runs. */
export type LoopKind = SelectorKind | 'busypoll';

/** Index of the stop flag in the control Int32Array. */
export const CONTROL_STOP = 0;

export interface ReactorWorkerData {
  readonly loop: LoopKind;
  readonly spec: ProtocolSpec;
  readonly opts: StrategyOptions;
  /** The listening socket, already bound (by the main thread) and O_NONBLOCK. */
  readonly listenFd: number;
  /** Read end of the wake-up pipe (the self-pipe trick). */
  readonly wakeFd: number;
  /** Int32Array over it: [CONTROL_STOP] = 1 asks the loop to stop. */
  readonly control: SharedArrayBuffer;
}
