export { ContainerDriver } from './driver.js';
export { runcTool, RUNC } from './argv.js';
