/**
 * Child-process entry: can this process set an io_uring up? Prints one JSON
 * line ({ ok, features } or { ok: false, reason }). Run in a child so that a
 * seccomp filter that kills on io_uring_setup (SIGSYS) kills the probe, not
 * the caller, and so that `iomodels list` never loads koffi itself.
 */
import { probeIoUring } from '../sys/io-uring.js';

process.stdout.write(`${JSON.stringify(probeIoUring())}\n`);
