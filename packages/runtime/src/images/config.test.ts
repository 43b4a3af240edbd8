import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageDefaults, parseImageConfig, resolveArgv, DOCKER_DEFAULT_PATH, type CommandOverrides } from './config.js';

const image = imageDefaults(
  parseImageConfig({ architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/entry'], Cmd: ['--default'], Env: ['A=1', 'B=x=y'], WorkingDir: '/w', User: 'app' } }),
);
const cmdOnly = imageDefaults(parseImageConfig({ config: { Cmd: ['/bin/server', '--port', '80'] } }));
const nothing = imageDefaults(parseImageConfig({ config: {} }));

test("Docker's override rules: the command replaces CMD, an entrypoint replaces ENTRYPOINT and clears CMD", () => {
  const table: [string, typeof image, CommandOverrides, string[] | RegExp][] = [
    ['run, nothing given', image, { whenNoCommand: 'image' }, ['/entry', '--default']],
    ['sandbox, nothing given: the idle process', image, { whenNoCommand: 'idle' }, []],
    ['command replaces CMD', image, { command: ['--other'], whenNoCommand: 'image' }, ['/entry', '--other']],
    ['shell command replaces CMD', image, { command: 'echo hi' }, ['/entry', '/bin/sh', '-c', 'echo hi']],
    ['entrypoint replaces ENTRYPOINT, clears CMD', image, { entrypoint: ['/bin/sh'], whenNoCommand: 'image' }, ['/bin/sh']],
    ['entrypoint and command', image, { entrypoint: ['/bin/sh', '-c'], command: ['echo hi'] }, ['/bin/sh', '-c', 'echo hi']],
    ['empty entrypoint clears it', image, { entrypoint: [], command: ['/bin/true'] }, ['/bin/true']],
    ['CMD only, nothing given', cmdOnly, { whenNoCommand: 'image' }, ['/bin/server', '--port', '80']],
    ['CMD only, command given', cmdOnly, { command: ['/bin/sh'] }, ['/bin/sh']],
    ['no ENTRYPOINT or CMD', nothing, { whenNoCommand: 'image' }, /has no ENTRYPOINT or CMD to run: give a command/],
    ['entrypoint cleared and no command', image, { entrypoint: [], whenNoCommand: 'image' }, /has no ENTRYPOINT or CMD/],
  ];
  for (const [name, defaults, o, want] of table) {
    if (want instanceof RegExp) assert.throws(() => resolveArgv(defaults, o, 'img'), want, name);
    else assert.deepEqual(resolveArgv(defaults, o, 'img'), want, name);
  }
});

test("an image's config becomes template defaults with Docker's fallbacks", () => {
  assert.deepEqual(image.env, { A: '1', B: 'x=y', PATH: DOCKER_DEFAULT_PATH });
  assert.equal(image.cwd, '/w');
  assert.equal(image.user, 'app');
  assert.equal(nothing.user, '0', 'no USER: uid 0 (an image FROM scratch has no passwd)');
  assert.equal(nothing.cwd, '/');
  const ports = parseImageConfig({ config: { ExposedPorts: { '8080/tcp': {}, '53/udp': {} } } });
  assert.deepEqual(ports.exposedPorts, ['53/udp', '8080/tcp']);
});
