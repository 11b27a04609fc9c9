/**
 * io-uring: asynchronous IO, the seed's fifth model (Linux). The process
 * never waits for readiness and never copies data itself: it describes whole
 * operations (ACCEPT, RECV, SEND) as SQEs in a ring shared with the kernel,
 * and the kernel does both phases — waiting for data (phase 1) and copying
 * it into a buffer we provided (phase 2) — then posts a CQE saying "done, n
 * bytes in buffer b". One loop thread submits a batch and waits for
 * completions with one io_uring_enter per iteration; the multishot ACCEPT
 * and one multishot RECV per connection stay armed, so a steady echo costs
 * one SEND SQE per reply and nothing per receive.
 */
export { createIoUringServer } from './io-uring/server.js';
