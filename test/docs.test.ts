import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

const root = new URL('../', import.meta.url);
const readme = fs.readFileSync(new URL('README.md', root), 'utf8');

/** The README's "Where things live" table: the folders it names under src/. */
function layoutFolders(): Set<string> {
  const start = readme.indexOf('## Where things live');
  assert.ok(start >= 0, 'README has a "Where things live" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return new Set([...section.matchAll(/`src\/([a-z-]+)\/`/g)].map((m) => m[1]!));
}

test("README's layout names every folder of src/, and only folders that exist", () => {
  const named = layoutFolders();
  const actual = fs
    .readdirSync(new URL('src/', root), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  for (const dir of actual) assert.ok(named.has(dir), `README's layout names src/${dir}/`);
  for (const dir of named) assert.ok(actual.includes(dir), `src/${dir}/ named in README exists`);
});

test('README stays a page for users: under 400 lines, its links to docs/ resolve', () => {
  const lines = readme.split('\n').length;
  assert.ok(lines < 400, `README has ${lines} lines (the research record belongs in docs/)`);
  for (const m of readme.matchAll(/\]\((docs\/[^)#]+)(#[^)]*)?\)/g)) {
    const file = m[1]!;
    assert.ok(fs.existsSync(new URL(file, root)), `${file} exists`);
    const anchor = m[2];
    if (anchor === undefined) continue;
    const doc = fs.readFileSync(new URL(file, root), 'utf8');
    const slugs = [...doc.matchAll(/^#+ (.+)$/gm)].map((h) =>
      h[1]!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s-]/gu, '')
        .trim()
        .replace(/\s/g, '-'),
    );
    assert.ok(slugs.includes(anchor.slice(1)), `${file}${anchor} names a heading there`);
  }
});
