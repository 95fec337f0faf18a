#!/usr/bin/env node
import { main } from './load-main.js';

process.exitCode = await main('vmgen', process.argv.slice(2));
