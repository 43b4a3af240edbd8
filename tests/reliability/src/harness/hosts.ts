/**
 * "Hosts" for the battery: each a network namespace this test creates, joined to the machine by a
 * veth pair on a /30 of its own (10.213.N.0/30: the machine is .1, the host .2), with an agent
 * process running in it (`nsenter --net`, which, unlike `ip netns exec`, keeps the machine's
 * mounts, so the agent sees the cgroup hierarchies). The agent reaches the server replicas at
 * the machine's end of its link; cutting the link (`partition`) is the host falling off the
 * network. Everything is removed by `destroy()`, and at process exit if the test dies.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The agent's entry point (compiled). */
const AGENT_MAIN = new URL('../../../../apps/agent/dist/main.js', import.meta.url).pathname;

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Why hosts cannot be made here, or null. */
export function hostsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const tool of ['ip', 'nsenter']) if (spawnSync('which', [tool]).status !== 0) return `${tool} is missing`;
  return null;
}

/** One host: its namespace, link and agent. */
export class Host {
  readonly netns: string;
  /** The machine's end of the link: where the agent reaches the servers. */
  readonly machineAddress: string;
  readonly stateDir: string;
  private agent: ChildProcess | undefined;
  private agentUrl = '';

  constructor(
    readonly index: number,
    readonly nodeId: string,
    private readonly dir: string,
    private readonly token: string,
  ) {
    this.netns = `ttrel-${process.pid}-${index}`;
    this.machineAddress = `10.213.${index}.1`;
    this.stateDir = join(dir, nodeId);
  }

  private get link(): string {
    return `ttrel${index2(this.index)}m`;
  }

  /** Creates the namespace and its link. */
  create(): void {
    mkdirSync(this.stateDir, { recursive: true });
    const peer = `ttrel${index2(this.index)}h`;
    ip(['netns', 'add', this.netns]);
    ip(['link', 'add', this.link, 'type', 'veth', 'peer', 'name', peer, 'netns', this.netns]);
    ip(['addr', 'add', `${this.machineAddress}/30`, 'dev', this.link]);
    ip(['link', 'set', this.link, 'up']);
    ip(['-n', this.netns, 'addr', 'add', `10.213.${this.index}.2/30`, 'dev', peer]);
    ip(['-n', this.netns, 'link', 'set', peer, 'up']);
    ip(['-n', this.netns, 'link', 'set', 'lo', 'up']);
  }

  /** Starts the agent, connecting to the replica listening on `port` (of every address). */
  startAgent(port: number): void {
    if (this.agent !== undefined) throw new Error(`the agent of ${this.nodeId} is running`);
    this.agentUrl = `ws://${this.machineAddress}:${port}/v1/agent/connect`;
    const log = createWriteStream(join(this.dir, `${this.nodeId}.log`), { flags: 'a' });
    const child = spawn('nsenter', [`--net=/run/netns/${this.netns}`, process.execPath, AGENT_MAIN], {
      env: {
        ...process.env,
        TARTARUS_SERVER_URL: this.agentUrl,
        TARTARUS_AGENT_TOKEN: this.token,
        TARTARUS_NODE_ID: this.nodeId,
        TARTARUS_NODE_NAME: this.nodeId,
        // A scenario can pin work to this host with nodeSelector {"battery-host": id}.
        TARTARUS_LABELS: `battery-host=${this.nodeId}`,
        TARTARUS_STATE_DIR: this.stateDir,
        TARTARUS_MAX_RECONNECT_DELAY_MS: '500',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.agent = child;
  }

  /** SIGKILLs the agent (its sandboxes stay, as when a machine's agent crashes). */
  async killAgent(): Promise<void> {
    await this.endAgent('SIGKILL');
  }

  /** Stops the agent gracefully (SIGTERM: it settles its work and takes its network down; SIGKILL after 20 s). */
  async stopAgent(): Promise<void> {
    await this.endAgent('SIGTERM');
  }

  private async endAgent(signal: NodeJS.Signals): Promise<void> {
    const a = this.agent;
    this.agent = undefined;
    if (a === undefined || a.exitCode !== null) return;
    const gone = new Promise((r) => a.once('exit', r));
    a.kill(signal);
    const t = setTimeout(() => a.kill('SIGKILL'), 20_000);
    await gone;
    clearTimeout(t);
  }

  /** Cuts (`true`) or heals (`false`) the host's link. */
  partition(cut: boolean): void {
    ip(['link', 'set', this.link, cut ? 'down' : 'up']);
  }

  /** Removes the namespace (and so its link). The agent must be stopped. */
  destroy(): void {
    spawnSync('ip', ['netns', 'del', this.netns]);
  }
}

/** Two hex digits: link names stay within 15 characters. */
function index2(i: number): string {
  return i.toString(16).padStart(2, '0');
}
