import type { Command } from 'commander';
import { invalid } from '../core/errors.js';
import { action, withStore, type CliContext } from './context.js';
import { int, pct } from './format.js';

/** `rapport tags …`: tag sets, and tagging an item by hand. */
export function registerTags(program: Command, ctx: () => Promise<CliContext>): void {
  const tags = program.command('tags').description("tag sets: the team's tags, examples and the model's suggestions");
  tags
    .command('list')
    .description('tag sets with their tags, examples, suggestions and the review backlog')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const c = await ctx();
        const { tagSets } = await import('../listening/tags.service.js');
        const sets = await withStore(c, (store) => tagSets(store));
        if (flags.json) {
          c.out.write(`${JSON.stringify({ tagSets: sets })}\n`);
          return;
        }
        if (sets.length === 0) c.out.write('No tags yet: `rapport tags label <feedback-id> <set> <tag>` tags an item, and the model learns from such examples.\n');
        for (const s of sets) {
          c.out.write(`${s.tagSet}: ${int(s.examples)} examples, ${int(s.suggested)} suggested, ${int(s.toReview)} to review${s.model ? `; model ${s.model.accuracy === null ? '' : `${pct(s.model.accuracy)} accurate, `}trained ${s.model.trainedAt}${s.model.stale ? ' (examples changed since)' : ''}` : ''}\n`);
          for (const t of s.tags) c.out.write(`    ${t.name.padEnd(30)} ${String(t.examples).padStart(6)} examples  ${String(t.suggested).padStart(7)} suggested\n`);
        }
      }),
    );
  tags
    .command('label <feedbackId> <tagSet> <tag...>')
    .description("tag an item by hand (an example for the model; '-' removes the tag)")
    .action(
      action(async (feedbackId: string, tagSet: string, tag: string[]) => {
        const id = Number(feedbackId);
        if (!Number.isInteger(id) || id < 1) throw invalid('feedbackId', `expected a feedback id, got "${feedbackId}"`);
        const c = await ctx();
        const { labelItem, tagSetName } = await import('../listening/tags.service.js');
        const name = tag.join(' ').trim();
        await withStore(c, (store) => labelItem(store, id, tagSetName(tagSet, 'tagSet'), name === '-' ? null : name, 'cli', Date.now()));
        c.out.write(name === '-' ? `Removed the "${tagSet}" tag of item ${id}.\n` : `Item ${id} tagged "${name}" in "${tagSet}".\n`);
      }),
    );
}
