/**
 * `npm run bench`: runs every scenario against Tandem and its peers and
 * writes docs/BENCHMARKS.md and docs/bench-latency.svg.
 * `npm run bench -- --quick` runs a small version of each, in under a
 * minute, to prove the harness works; it asserts nothing about speed.
 * `--only=fan-out,writes` picks scenarios and `--targets=tandem,mercurius`
 * servers; like --quick, either writes its report to test-results/bench/.
 */
import os from 'node:os';
import { LoadGenerator, loopbackAddresses } from './lib/processes.js';
import { writeReport, type Report } from './lib/report.js';
import { scenarios, type RunContext, type ScenarioName } from './scenarios.js';
import type { Target } from './lib/targets.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',') as ScenarioName[] | undefined;
const chosenTargets = args.find((arg) => arg.startsWith('--targets='))?.slice('--targets='.length).split(',');
const unknown = only?.filter((name) => !(name in scenarios));
if (unknown?.length) {
  console.error(`Unknown scenario ${unknown.join(', ')}; choose from ${Object.keys(scenarios).join(', ')}.`);
  process.exit(2);
}

/**
 * Waits until every server's CPU use falls below a tenth of a core, at most
 * 60 s, so that one scenario's cleanup (tens of thousands of closed
 * subscriptions) does not count against the next.
 */
async function untilIdle(servers: Target[]): Promise<void> {
  const window = 500;
  await Promise.all(
    servers.map(async (target) => {
      for (let waited = 0; waited < 60_000; waited += window) {
        const before = await target.server.cpu();
        await new Promise((resolve) => setTimeout(resolve, window));
        const after = await target.server.cpu();
        if (after.user + after.system - before.user - before.system < window * 100) break;
      }
    }),
  );
}

const started = Date.now();
const load = new LoadGenerator();
const targets: Target[] = [];
const context: RunContext = {
  quick,
  load,
  addresses: loopbackAddresses(8),
  targets,
  wants: (name) => !chosenTargets || chosenTargets.includes(name),
  log: (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`),
};

const report: Report = {
  command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
  date: new Date().toISOString(),
  machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node.js ${process.version}`,
  quick,
  partial: only !== undefined || chosenTargets !== undefined,
  sections: [],
};

let failed = false;
try {
  for (const [name, scenario] of Object.entries(scenarios) as [ScenarioName, (typeof scenarios)[ScenarioName]][]) {
    if (only && !only.includes(name)) continue;
    context.log(`scenario ${name}`);
    try {
      report.sections.push(await scenario(context));
    } catch (error) {
      // One broken scenario is reported; the others still run.
      console.error(error);
      report.sections.push({ id: name, title: `${name} (failed)`, shape: '', target: 'see the scenario', met: false, summary: `The scenario failed: ${(error as Error).message}`, tables: [] });
    }
    await load.closeSockets();
    await untilIdle(targets);
  }
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  load.dispose();
  await Promise.all(targets.map(async (target) => {
    await target.server.stop();
    await target.cleanup();
  }));
}
report.seconds = (Date.now() - started) / 1000;
if (!failed) {
  const written = writeReport(report);
  context.log(`wrote ${written.join(' and ')}`);
}
process.exit(failed ? 1 : 0);
