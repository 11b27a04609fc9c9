/** Finding the processes a CLI run started, from /proc (Linux). */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  cmdline: string[];
}

export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
      out.push({ pid: Number(d), ppid, cmdline });
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}

/**
 * Children of `pid` with `word` as a whole argument or as the file name of
 * one ("serve", "load-child.js"). Substrings would also match a freshly
 * forked child that has not exec'd yet: it still shows the parent's command
 * line, whose "--server-cpus" contains "serve".
 */
export function childrenWith(pid: number, word: string): ProcInfo[] {
  return processes().filter((p) => p.ppid === pid && p.cmdline.some((a) => a === word || a.endsWith(`/${word}`)));
}

