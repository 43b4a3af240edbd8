export { collectOrphans, ownersDir, type Collected, type Owner } from './owners.js';
