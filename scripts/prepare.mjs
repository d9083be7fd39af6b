// `npm install` / `npm ci` build the project (TypeScript to dist/, the web app to web/dist/).
// `npx rapport` in the project directory installs the project into npx's cache as a link,
// which runs this script again: a rebuild of a project already built. Skip it there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const built = existsSync(new URL('../dist/cli/main.js', import.meta.url)) && existsSync(new URL('../web/dist/index.html', import.meta.url));
if (process.env.npm_command === 'exec' && built) process.exit(0);
const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(r.status ?? 1);
