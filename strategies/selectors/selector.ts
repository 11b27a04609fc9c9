/**
 * Readiness selectors, modelled on Python's `selectors`: register an fd with
 * the events you wait for (EVENT_READ, EVENT_WRITE) and any data, then
 * `select(timeout)` tells you which registered fds are ready. Who watches
 * the fds is what differs: select scans two bitmaps, poll scans an array of
 * structs, epoll and kqueue keep a ready list in the kernel.
 *
 * Unlike Python, select() returns a reused `Ready` object instead of a new
 * list, so a reactor loop allocates nothing per iteration.
 */

export const EVENT_READ = 1;
export const EVENT_WRITE = 2;

/** One registration (Python's SelectorKey, without fileobj). */
export interface SelectorKey<T> {
  readonly fd: number;
  /** EVENT_READ | EVENT_WRITE bits waited for. */
  events: number;
  data: T;
}

/**
 * The result of select(): entries [0, count) of `keys` and `events` are
 * valid until the next select(). `events[i]` is the subset of
 * keys[i].events that is ready; an error or hang-up on the fd reports every
 * registered event, so the owner discovers it by reading or writing (as
 * Python does). A key may appear twice (kqueue reports read and write apart).
 */
export interface Ready<T> {
  count: number;
  readonly keys: SelectorKey<T>[];
  readonly events: number[];
}

export interface Selector<T> {
  /** "select", "poll", "epoll" or "kqueue". */
  readonly name: string;
  /** Start watching fd; throws if it is registered already or events is not 1..3. */
  register(fd: number, events: number, data: T): SelectorKey<T>;
  /** Stop watching fd; returns its key. Throws if it was not registered. */
  unregister(fd: number): SelectorKey<T>;
  /** Change the events (and optionally data) of a registered fd. */
  modify(fd: number, events: number, data?: T): SelectorKey<T>;
  /**
   * Wait up to timeoutMs (< 0: forever, 0: just look) for readiness.
   * A signal interrupting the wait returns an empty result.
   */
  select(timeoutMs: number): Ready<T>;
  /** The key of fd, if registered. */
  get(fd: number): SelectorKey<T> | undefined;
  /** Registered fds. */
  readonly size: number;
  /** Release kernel resources (epoll/kqueue fd). Idempotent. */
  close(): void;
}

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

/**
 * The bookkeeping every implementation shares: keys in an array indexed by
 * fd (fds are small dense integers), and the reused Ready result.
 */
export abstract class BaseSelector<T> implements Selector<T> {
  abstract readonly name: string;
  protected readonly keys: (SelectorKey<T> | undefined)[] = [];
  protected readonly ready: Ready<T> = { count: 0, keys: [], events: [] };
  #size = 0;
  protected closed = false;

  get size(): number {
    return this.#size;
  }

  get(fd: number): SelectorKey<T> | undefined {
    return this.keys[fd];
  }

  register(fd: number, events: number, data: T): SelectorKey<T> {
    this.checkOpen();
    if (!Number.isInteger(fd) || fd < 0) throw new SelectorError(`invalid fd ${fd}`);
    checkEvents(events);
    if (this.keys[fd] !== undefined) throw new SelectorError(`fd ${fd} is already registered`);
    const key: SelectorKey<T> = { fd, events, data };
    this.add(key);
    while (this.keys.length <= fd) this.keys.push(undefined);
    this.keys[fd] = key;
    this.#size++;
    return key;
  }

  unregister(fd: number): SelectorKey<T> {
    this.checkOpen();
    const key = this.keys[fd];
    if (key === undefined) throw new SelectorError(`fd ${fd} is not registered`);
    this.keys[fd] = undefined;
    this.#size--;
    this.remove(key);
    return key;
  }

  modify(fd: number, events: number, data?: T): SelectorKey<T> {
    this.checkOpen();
    const key = this.keys[fd];
    if (key === undefined) throw new SelectorError(`fd ${fd} is not registered`);
    checkEvents(events);
    if (events !== key.events) {
      const old = key.events;
      key.events = events;
      this.change(key, old);
    }
    if (data !== undefined) key.data = data;
    return key;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.keys.length = 0;
    this.#size = 0;
    this.release();
  }

  abstract select(timeoutMs: number): Ready<T>;
  /** Watch a new key (throws to refuse it; nothing is recorded then). */
  protected abstract add(key: SelectorKey<T>): void;
  /** Stop watching a key that was just dropped from `keys`. */
  protected abstract remove(key: SelectorKey<T>): void;
  /** key.events changed from `old`. */
  protected abstract change(key: SelectorKey<T>, old: number): void;
  protected abstract release(): void;

  protected checkOpen(): void {
    if (this.closed) throw new SelectorError(`${this.name} selector is closed`);
  }

  /** Append one ready entry (reusing array slots). */
  protected push(key: SelectorKey<T>, events: number): void {
    const i = this.ready.count++;
    if (i < this.ready.keys.length) {
      this.ready.keys[i] = key;
      this.ready.events[i] = events;
    } else {
      this.ready.keys.push(key);
      this.ready.events.push(events);
    }
  }
}

function checkEvents(events: number): void {
  if (events !== EVENT_READ && events !== EVENT_WRITE && events !== (EVENT_READ | EVENT_WRITE)) {
    throw new SelectorError(`invalid events ${events}: use EVENT_READ, EVENT_WRITE or both`);
  }
}
