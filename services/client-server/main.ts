// Entry point: the only file of this service that touches the process (see common/main-runner.ts).
import { runMain } from '../common/main-runner.js';

await runMain(process, 'client-server');
