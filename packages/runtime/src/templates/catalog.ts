/**
 * The built-in templates: what each holds, how it is built and the defaults its processes get.
 * OCI images join later as `image:<ref>` through the same `TemplateDefinition` shape.
 */
import { InvalidArgumentError } from '@tartarus/core';
import type { TemplateDefinition } from './builder.js';
import { buildBusybox, BUSYBOX_BUILDER_VERSION } from './busybox.js';
import { buildDebootstrap, DEBOOTSTRAP_BUILDER_VERSION } from './debootstrap.js';
import { SANDBOX_HOME } from './skeleton.js';
import type { TemplateDefaults, TemplateName } from './types.js';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function defaults(extraEnv: Record<string, string> = {}): TemplateDefaults {
  return {
    // An idle main process keeps an interactive sandbox alive; coreutils and busybox
    // (1.35, Debian's) both accept `infinity`.
    argv: ['sleep', 'infinity'],
    env: { PATH, HOME: SANDBOX_HOME, LANG: 'C.UTF-8', TERM: 'xterm', ...extraEnv },
    cwd: SANDBOX_HOME,
    // Unprivileged by default; `root` stays available by asking for it.
    user: 'sandbox',
    shell: ['/bin/sh', '-c'],
  };
}

const DEFINITIONS: Record<TemplateName, TemplateDefinition> = {
  busybox: {
    name: 'busybox',
    description: "BusyBox userland (the host's busybox-static); builds in milliseconds",
    defaults: defaults(),
    builderVersion: BUSYBOX_BUILDER_VERSION,
    build: buildBusybox,
  },
  debian: {
    name: 'debian',
    description: 'Debian 12 (bookworm) minbase, built with debootstrap on first use',
    defaults: defaults(),
    builderVersion: DEBOOTSTRAP_BUILDER_VERSION,
    build: (ctx) => buildDebootstrap(ctx, [], 90),
  },
  python: {
    name: 'python',
    description: 'Debian 12 minbase with python3, numpy and pandas from Debian packages',
    // Unbuffered so a run's output streams as it is printed.
    defaults: defaults({ PYTHONUNBUFFERED: '1' }),
    builderVersion: DEBOOTSTRAP_BUILDER_VERSION,
    build: (ctx) => buildDebootstrap(ctx, ['python3', 'python3-numpy', 'python3-pandas'], 121),
  },
};

/** Names of every built-in template, in listing order (the order of `DEFINITIONS`). */
export const TEMPLATE_NAMES: readonly TemplateName[] = Object.keys(DEFINITIONS) as TemplateName[];

/** True when `name` is a built-in template name. */
export function isTemplateName(name: string): name is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(name);
}

/** The definition of `name`; throws `InvalidArgumentError` listing the known names otherwise. */
export function templateDefinition(name: string): TemplateDefinition {
  if (!isTemplateName(name)) {
    throw new InvalidArgumentError(
      `unknown template ${JSON.stringify(name)}: use one of ${TEMPLATE_NAMES.join(', ')}`,
      { context: { template: name, known: [...TEMPLATE_NAMES] } },
    );
  }
  return DEFINITIONS[name];
}
