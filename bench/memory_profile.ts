// Where one server process's memory is at its peak under the ingestion benchmark's load: samples
// /proc/<pid>/status every 50 ms, and at each new high (at most every 500 ms) reads smaps (resident
// bytes by kind of mapping) and /health/details (both JavaScript heaps, DuckDB's memory). Prints the
// split at the highest sample. With --gdb-at-mb N, asks glibc once for its arena statistics
// (malloc_stats through gdb, written to the server's stderr) when RSS first passes N MB.
//
//   node bench/memory_profile.ts [--spans 200000] [--clients 8] [--gdb-at-mb 450] [--env K=V]… [--node-arg=--flag]…
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createApiKey, signIn } from '../test/support/accounts.ts';
import { type Health, health } from '../test/support/health.ts';
import { failedPollerBatches, startServerProcess } from '../test/support/server_process.ts';
import { buildRequests, runLoad } from './ingestion.ts';
import { envFromPairs } from './server_flags.ts';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '200000' },
    clients: { type: 'string', default: '8' },
    'gdb-at-mb': { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
  },
});

const MB = 2 ** 20;
const mb = (bytes: number) => Math.round(bytes / MB);

const status = (pid: number): Record<string, number> => {
  const fields: Record<string, number> = {};
  for (const match of readFileSync(`/proc/${pid}/status`, 'utf8').matchAll(/^(\w+):\s+(\d+) kB$/gm)) {
    fields[match[1]!] = Number(match[2]) * 1024;
  }
  return fields;
};

/** Resident bytes of every mapping, grouped: file-backed by file, anonymous by size class. */
function smapsGroups(pid: number): Record<string, number> {
  const groups: Record<string, number> = {};
  let group = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const start = Number.parseInt(header[1]!, 16);
      const size = Number.parseInt(header[2]!, 16) - start;
      const name = header[4]!.trim();
      if (name.startsWith('/')) group = `file ${name.split('/').slice(-1)[0]}`;
      else if (name) group = `anon ${name}`;
      // glibc's thread arenas are 64 MiB-aligned reservations; V8 pages are 256 KiB, aligned; other
      // mappings are mmap'd allocations (large malloc chunks, DuckDB) or V8 large-object pages.
      else if (start % (64 * MB) === 0 && size <= 64 * MB) group = 'anon glibc thread arena';
      else if (size === 256 * 1024 && start % (256 * 1024) === 0) group = 'anon 256 KiB (V8 page)';
      else if (size < 256 * 1024) group = 'anon < 256 KiB';
      else if (size < 4 * MB) group = 'anon 256 KiB – 4 MiB';
      else group = 'anon ≥ 4 MiB';
      if (!name.startsWith('/') && header[3]!.includes('x')) group += ' (executable)';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss) groups[group] = (groups[group] ?? 0) + Number(rss[1]) * 1024;
  }
  return groups;
}

const server = await startServerProcess({
  env: envFromPairs(args.env),
  nodeArgs: args['node-arg'],
});
const pid = server.child.pid!;
try {
  const session = await signIn(server.baseUrl);
  const { key } = await createApiKey(session);
  const requests = buildRequests(Number(args.spans), 7, 512);
  const idle = status(pid);

  let peak = {
    rss: 0,
    at: 0,
    status: idle,
    smaps: {} as Record<string, number>,
    health: null as Health | null,
  };
  let lastCapture = 0;
  let latestHealth: Health | null = null;
  let gdbDone = args['gdb-at-mb'] === undefined;
  let sampling = true;
  const started = performance.now();
  const healthSampler = (async () => {
    while (sampling) {
      // A sample the busy server drops (seen as 'other side closed' at load 15+) is skipped: thrown
      // here, it ended the profile unhandled and left the server running.
      latestHealth = await health(server.baseUrl).catch(() => latestHealth);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const sampler = (async () => {
    while (sampling) {
      const now = status(pid);
      if (now.VmRSS! > peak.rss && performance.now() - lastCapture > 500) {
        lastCapture = performance.now();
        peak = {
          rss: now.VmRSS!,
          at: (performance.now() - started) / 1000,
          status: now,
          smaps: smapsGroups(pid),
          health: latestHealth,
        };
      }
      if (!gdbDone && now.VmRSS! > Number(args['gdb-at-mb']) * MB) {
        gdbDone = true;
        spawnSync('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'call (void)malloc_stats()'], {
          stdio: 'ignore',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const load = await runLoad([`127.0.0.1:${server.ports.otlpGrpc}`], key, Number(args.clients), requests);
  // Until everything acknowledged is indexed: the poller's side of the peak.
  for (;;) {
    // A dropped sample (a busy server) is asked again, as in the health sampler above.
    const facts = await health(server.baseUrl).catch(() => null);
    if ((facts?.poller?.spans_indexed ?? 0) >= load.spans) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const indexedSeconds = (performance.now() - started) / 1000;
  sampling = false;
  await Promise.all([sampler, healthSampler]);
  const end = status(pid);
  const facts = (peak.health ?? {}) as Health & Record<string, unknown>;
  console.log(
    `spans ${load.spans}, acked in ${load.seconds.toFixed(1)} s, indexed in ${indexedSeconds.toFixed(1)} s`,
  );
  console.log(`VmHWM ${mb(end.VmHWM!)} MB; highest sample ${mb(peak.rss)} MB at ${peak.at.toFixed(1)} s;`);
  console.log(
    `  at that sample: RssAnon ${mb(peak.status.RssAnon!)} RssFile ${mb(peak.status.RssFile!)} RssShmem ${mb(peak.status.RssShmem!)}`,
  );
  if (facts.process) {
    console.log(
      `  health just before: main heap used/total ${mb(facts.process.heap_used_bytes)}/${mb(facts.process.heap_total_bytes)}, ` +
        `external ${mb(facts.process.external_bytes)}, arrayBuffers ${mb(facts.process.array_buffers_bytes)}, ` +
        `worker heap used/total ${mb(facts.worker_heap_used_bytes ?? 0)}/${mb(facts.worker_heap_total_bytes ?? 0)}, ` +
        `DuckDB ${mb(facts.span_store?.memory_bytes ?? 0)} (${facts.span_store?.memory_limit})`,
    );
  }
  console.log('  smaps resident by group (MB):');
  for (const [group, bytes] of Object.entries(peak.smaps).sort((a, b) => b[1] - a[1])) {
    if (bytes >= MB) console.log(`    ${String(mb(bytes)).padStart(5)}  ${group}`);
  }
  console.log(`after indexing: RSS ${mb(end.VmRSS!)} MB; idle before load ${mb(idle.VmRSS!)} MB`);
  // A memory limit too low for the load shows as commits DuckDB refuses ("failed to pin block"),
  // which the poller waits out: indexing stalls without any other sign here.
  const failedBatches = failedPollerBatches(server);
  console.log(
    `poller batches failed and retried: ${failedBatches.length}` +
      (failedBatches.length > 0 ? ` (first: ${failedBatches[0]!.slice(0, 300)})` : ''),
  );
  const arenaStats = server
    .output()
    .split('\n')
    .filter((line) => /Arena|system bytes|in use bytes|Total/.test(line));
  if (arenaStats.length > 0) console.log(`malloc_stats:\n${arenaStats.join('\n')}`);
  console.log(
    `load average ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
} catch (error) {
  console.error(`${String(error)}; the server's last output:\n${server.output().slice(-3000)}`);
  process.exitCode = 1;
} finally {
  await server.stop('SIGTERM');
  await server.cleanup();
}
