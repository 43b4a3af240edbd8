/** placeholder replaced below */
import type { BuildContext, BuildResult } from './builder.js';
export const DEBOOTSTRAP_BUILDER_VERSION = 1;
export async function buildDebootstrap(_ctx: BuildContext, _include: string[]): Promise<BuildResult> {
  throw new Error('the debian builder is not landed yet');
}
