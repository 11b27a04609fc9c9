/**
 * Selectors by name, and DefaultSelector: the best one this platform has
 * (epoll > kqueue > poll > select), as in Python's selectors module.
 */
import * as sys from '../sys/index.js';
import { EpollSelector } from './epoll.js';
import { KqueueSelector } from './kqueue.js';
import { PollSelector } from './poll.js';
import { SelectSelector } from './select.js';
import type { Selector } from './selector.js';

export { EVENT_READ, EVENT_WRITE, SelectorError, type Ready, type Selector, type SelectorKey } from './selector.js';
export { EpollSelector, KqueueSelector, PollSelector, SelectSelector };

export type SelectorKind = 'select' | 'poll' | 'epoll' | 'kqueue';

export const SELECTOR_KINDS: readonly SelectorKind[] = ['select', 'poll', 'epoll', 'kqueue'];

/** Whether a selector works here, and why not. */
export function selectorAvailable(kind: SelectorKind): { ok: true } | { ok: false; reason: string } {
  if (sys.PLATFORM === 'unsupported') return { ok: false, reason: `not a POSIX platform (${process.platform})` };
  if (kind === 'epoll' && !sys.HAVE_EPOLL) return { ok: false, reason: `epoll is Linux-only (this is ${process.platform})` };
  if (kind === 'kqueue' && !sys.HAVE_KQUEUE) {
    return { ok: false, reason: `kqueue is BSD/macOS-only (this is ${process.platform})` };
  }
  return { ok: true };
}

export function createSelector<T>(kind: SelectorKind): Selector<T> {
  switch (kind) {
    case 'select':
      return new SelectSelector<T>();
    case 'poll':
      return new PollSelector<T>();
    case 'epoll':
      return new EpollSelector<T>();
    case 'kqueue':
      return new KqueueSelector<T>();
  }
}

/** The kind DefaultSelector picks here. */
export function defaultSelectorKind(): SelectorKind {
  if (sys.HAVE_EPOLL) return 'epoll';
  if (sys.HAVE_KQUEUE) return 'kqueue';
  return 'poll';
}

/** The best selector available (Python's DefaultSelector). */
export function DefaultSelector<T>(): Selector<T> {
  return createSelector<T>(defaultSelectorKind());
}
