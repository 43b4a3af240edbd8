#!/usr/bin/env node
// Entry point of the `tartarus` command; all of it lives in the compiled dist/ (npm run build).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv);
