#!/usr/bin/env node
// Thin launcher: all logic lives in src/cli; this file only runs it and exits with its code.
import { runCli } from '../dist/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
