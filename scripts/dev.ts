// Runs the CLI from source (no build): npx tsx scripts/dev.ts vmgen validate FILE
import { main } from '../src/cli/main.js';

const [name, ...args] = process.argv.slice(2);
process.exitCode = await main(name === 'vmgctl' ? 'vmgctl' : 'vmgen', args);
