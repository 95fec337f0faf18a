#!/usr/bin/env node
import { main } from './load-main.js';

process.exitCode = await main('vmgctl', process.argv.slice(2));
