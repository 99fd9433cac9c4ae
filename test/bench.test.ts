/**
 * A smoke run of the benchmark harness (`npm run bench -- --quick`): every
 * scenario starts its servers and load generators and writes its report.
 * It asserts nothing about speed; the measurements are in docs/BENCHMARKS.md.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const report = path.resolve('test-results', 'bench', 'BENCHMARKS.md');
const scenarios = ['fan-out', 'latency', 'memory', 'capacity', 'writes', 'replay', 'queries', 'floor'];

// The harness is the same for both databases, so one project runs it.
describe.skipIf(process.env.TEST_DATABASE !== 'sqlite')('npm run bench -- --quick', () => {
  it('runs every scenario and writes the report', { timeout: 240_000 }, async () => {
    fs.rmSync(report, { force: true });
    const output: string[] = [];
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output.join('')).toBe(0);

    const text = fs.readFileSync(report, 'utf8');
    for (const id of scenarios) expect(text, `section ${id}`).toContain(`<a id="${id}"></a>`);
    expect(text, 'a scenario failed').not.toContain('(failed)');
    expect(text).toContain('a smoke run');
  });
});
