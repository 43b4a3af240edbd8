export { GvisorDriver } from './driver.js';
export { runscTool, RUNSC } from './argv.js';
