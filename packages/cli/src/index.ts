/** `@tartarus/cli`: the `tartarus` command as a library (the bin calls `main`). */
export { main } from './main.js';
export { buildProgram } from './program.js';
