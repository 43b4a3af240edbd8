/**
 * Init steps (`init.steps`) run in the replica's own sandbox, in order, before its main process:
 * the replica's command is wrapped in a POSIX shell script (`sh -c SCRIPT tartarus-init MAIN...`)
 * that runs the steps and then `exec`s the main command. Run there, a step sees what the replica
 * sees — `db` resolves through the deployment's internal names as the replica resolves it, and
 * `localhost` is the replica — and nothing new is needed on the node or in the agent: the run
 * starts, logs and ends like any other, its init lines in its output.
 *
 * A step's attempt: `init.wait_tcp` and `init.wait_http` poll once a second until they succeed or
 * the step's `timeout` passes (no timeout: until they succeed); `init.run` runs its command once
 * with the shell (killed after `timeout`, where the image has `timeout`). A failed attempt is
 * tried again up to `retry` times, a second apart; then `on_failure` says: `fail` ends the
 * replica with exit status INIT_FAILED_EXIT (the controller then follows
 * `errors.on_init_failure`), `warn` writes a warning and goes on, `continue` goes on.
 * The probes use what the image has: `nc` (`-z`, or busybox's `-e true`), else `bash`'s
 * `/dev/tcp`, else `python3` (TCP);
 * `wget`, else `curl`, else `python3` (HTTP).
 */
import { InvalidArgumentError, type InitStepPlan, type ServicePlan } from '@tartarus/core';

/** The exit status of a replica whose init step failed with `on_failure: fail`. */
export const INIT_FAILED_EXIT = 213;

/** The script's functions: the probes, the wait loop, the run with a timeout, one step with its retries. */
const PRELUDE = `tt_tcp() {
  if command -v nc >/dev/null 2>&1; then
    e=$(nc -z -w 2 "$1" "$2" 2>&1 </dev/null >/dev/null) && return 0
    # busybox's small nc has no -z: connect, run true, close.
    case $e in *option*) nc -w 2 "$1" "$2" -e true </dev/null >/dev/null 2>&1; return $? ;; esac
    return 1
  fi
  if command -v bash >/dev/null 2>&1; then bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" >/dev/null 2>&1; return $?; fi
  if command -v python3 >/dev/null 2>&1; then python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)' "$1" "$2" >/dev/null 2>&1; return $?; fi
  echo "init: init.wait_tcp needs nc, bash or python3 in the image" >&2; return 1
}
tt_http() {
  if command -v wget >/dev/null 2>&1; then s=$(wget -q -S -O /dev/null -T 2 "$1" 2>&1 | sed -n 's/.*HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p' | tail -n 1)
  elif command -v curl >/dev/null 2>&1; then s=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1")
  elif command -v python3 >/dev/null 2>&1; then s=$(python3 -c 'import sys,urllib.request as u
try: print(u.urlopen(sys.argv[1], timeout=2).status)
except Exception as e: print(getattr(e, "code", 0))' "$1")
  else echo "init: init.wait_http needs wget, curl or python3 in the image" >&2; return 1; fi
  [ "$s" = "$2" ]
}
tt_wait() {
  t=$1; shift; end=$(( $(date +%s) + t ))
  while :; do
    "$@" && return 0
    if [ "$t" -gt 0 ] && [ "$(date +%s)" -ge "$end" ]; then return 1; fi
    sleep 1
  done
}
tt_run() {
  if [ "$1" -gt 0 ] && command -v timeout >/dev/null 2>&1; then timeout "$1" sh -c "$2"; else sh -c "$2"; fi
}
tt_step() {
  id=$1; on=$2; n=$3; shift 3; i=0
  while :; do
    if "$@"; then echo "init: $id done" >&2; return 0; fi
    i=$((i + 1)); [ "$i" -gt "$n" ] && break
    echo "init: $id failed, again ($i of $n)" >&2; sleep 1
  done
  case $on in
    fail) echo "init: $id failed: the replica does not start (on_failure: fail)" >&2; exit ${INIT_FAILED_EXIT} ;;
    warn) echo "init: warning: $id failed, going on (on_failure: warn)" >&2 ;;
  esac
  return 0
}
`;

/** `s` as one single-quoted shell word. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One step as a line of the script. */
function stepLine(step: InitStepPlan): string {
  const seconds = step.timeoutMs === null ? 0 : Math.ceil(step.timeoutMs / 1000);
  const w = step.with;
  const head = `tt_step ${sq(step.id)} ${step.onFailure} ${step.retry}`;
  switch (step.uses) {
    case 'init.wait_tcp':
      return `${head} tt_wait ${seconds} tt_tcp ${sq(String(w.host))} ${sq(String(w.port))}`;
    case 'init.wait_http':
      return `${head} tt_wait ${seconds} tt_http ${sq(String(w.url))} ${sq(String(w.expect_status ?? 200))}`;
    case 'init.run':
      return `${head} tt_run ${seconds} ${sq(String(w.command))}`;
    default:
      // The spec's checks admit only the three actions.
      throw new InvalidArgumentError(`init step ${step.id}: ${step.uses} is not an init action (init.wait_tcp, init.wait_http, init.run)`);
  }
}

/** The script that runs `steps` in order, then the main command (its arguments). */
export function initScript(steps: InitStepPlan[]): string {
  return `${PRELUDE}${steps.map(stepLine).join('\n')}\nexec "$@"\n`;
}

/** The wrapper's argv before the main command: the shell, the script, and `$0`. */
export function initWrapper(steps: InitStepPlan[]): string[] {
  return ['/bin/sh', '-c', initScript(steps), 'tartarus-init'];
}

/**
 * Why `svc`'s init steps cannot run, or null: the wrapper must know the whole main command, so an
 * image service gives `command.entrypoint` (the image's own ENTRYPOINT is not known to the server)
 * and a template service a command.
 */
export function initRefusal(svc: ServicePlan): string | null {
  if (svc.init.length === 0) return null;
  if (svc.image.startsWith('template:')) return (svc.entrypoint ?? []).length + (svc.args ?? []).length > 0 ? null : `services.${svc.name}.init: init steps need the main command written out (command.entrypoint or command.args)`;
  return svc.entrypoint !== null && svc.entrypoint.length > 0 ? null : `services.${svc.name}.init: init steps on an image need command.entrypoint written out (with command.args): the steps run before it, and the image's own ENTRYPOINT is not known to the server`;
}

/**
 * What a service does after its replica `last` failed: `stop` (stay down: `errors.on_init_failure:
 * fail` after an init failure, `on_panic: shutdown` after any other), `now` (replace it at once:
 * `on_init_failure: restart`) or `backoff` (replace it after the doubling backoff).
 */
export function afterFailure(svc: ServicePlan, last: { state: string; exitCode: number | null } | undefined): 'stop' | 'now' | 'backoff' {
  if (last?.state === 'failed' && last.exitCode === INIT_FAILED_EXIT && svc.init.length > 0) {
    const policy = svc.errors.onInitFailure;
    return policy === 'fail' ? 'stop' : policy === 'restart' ? 'now' : 'backoff';
  }
  return svc.errors.onPanic === 'shutdown' ? 'stop' : 'backoff';
}
