import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Returns the folder of PostgreSQL's server programs: PG_BIN, or the newest under /usr/lib/postgresql. */
function postgresBin(): string | null {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs.readdirSync(root).filter((name) => fs.existsSync(path.join(root, name, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

/**
 * A PostgreSQL server of the test's own, in a temporary folder on a free
 * loopback port, which the test may stop and start (the machine's shared
 * server is never restarted). PostgreSQL refuses to run as root, so as root
 * its programs run as the `postgres` user.
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  /** Returns null with the reason when this machine cannot run one. */
  static unavailable(): string | null {
    if (!postgresBin()) return 'PostgreSQL server programs (initdb, pg_ctl) were not found; set PG_BIN to their folder';
    return null;
  }

  static async create(): Promise<PrivatePostgres> {
    const bin = postgresBin()!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-pg-'));
    if (process.getuid?.() === 0) fs.chownSync(dir, ...postgresIds());
    const server = new PrivatePostgres(dir, await freePort(), bin);
    await server.exec('initdb', ['-D', path.join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '--encoding', 'UTF8', '--locale', 'C']);
    await server.start();
    return server;
  }

  /** DATABASE_URL of the database `name` (default `postgres`). */
  url(name = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${name}`;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    await this.exec('pg_ctl', ['-D', path.join(this.dir, 'data'), '-o', options, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
  }

  /** Stops at once, ending every connection, as a crash or a restart would. */
  async stop(): Promise<void> {
    await this.exec('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', '-t', '30', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async exec(program: string, args: string[]): Promise<void> {
    const file = path.join(this.bin, program);
    if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', file, ...args], { cwd: this.dir });
    else await run(file, args, { cwd: this.dir });
  }
}

function postgresIds(): [number, number] {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('Running as root, but there is no postgres user to run PostgreSQL as.');
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}

/** A Redis server of the test's own on a free loopback port, keeping nothing on disk, which the test may stop and start. */
export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static unavailable(): string | null {
    const found = (process.env.PATH ?? '').split(':').some((folder) => fs.existsSync(path.join(folder, 'redis-server')));
    return found ? null : 'redis-server was not found on PATH';
  }

  static async create(): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
    });
  }

  /** Kills the server at once, as a crash would. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
