import type { Command } from 'commander';
import { invalid } from '../core/errors.js';
import { action, READS_ONLY, withStore, type CliContext } from './context.js';
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
        const sets = await withStore(c, (store) => tagSets(store), READS_ONLY);
        if (flags.json) {
          c.out.write(`${JSON.stringify({ tagSets: sets })}\n`);
          return;
        }
        if (sets.length === 0) c.out.write('No tags yet: `rapport tags label <feedback-id> <set> <tag>` tags an item, and the model learns from such examples.\n');
        for (const s of sets) {
          c.out.write(`${s.tagSet}: ${int(s.examples)} examples, ${int(s.suggested)} suggested, ${int(s.toReview)} to review${s.model ? `; model ${s.model.accuracy === null ? '' : `${pct(s.model.accuracy)} accurate, `}trained ${s.model.trainedAt}${s.model.stale ? ' (examples changed since)' : ''}` : ''}\n`);
          const v = s.model?.validation;
          if (v) c.out.write(`    cross-validated: ${pct(v.accuracy.estimate)} right (95% CI ${pct(v.accuracy.low)}–${pct(v.accuracy.high)}) on ${int(v.n)} held-out examples\n`);
          for (const t of s.tags) c.out.write(`    ${t.name.padEnd(30)} ${String(t.examples).padStart(6)} examples  ${String(t.suggested).padStart(7)} suggested  ${t.validation.note}\n`);
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
  const tagOf = async (c: CliContext, tagSet: string, name: string) => {
    const { tagSets, tagSetName } = await import('../listening/tags.service.js');
    const [set] = await withStore(c, (store) => tagSets(store, tagSetName(tagSet, 'tagSet')));
    const tag = set!.tags.find((t) => t.name === name);
    if (!tag) throw invalid('tag', `tag set "${tagSet}" has no tag "${name}" (it has ${set!.tags.map((t) => `"${t.name}"`).join(', ')})`);
    return tag;
  };
  tags
    .command('rename <tagSet> <tag> <newName>')
    .description('rename a tag (the set retrains at the next run)')
    .action(
      action(async (tagSet: string, tag: string, newName: string) => {
        const c = await ctx();
        const { RenameTagBody, updateTag } = await import('../listening/tags.service.js');
        const { parseOrThrow } = await import('../core/validation.js');
        const body = parseOrThrow(RenameTagBody, { name: newName });
        const t = await tagOf(c, tagSet, tag);
        await withStore(c, (store) => updateTag(store, t.id, body, Date.now()));
        c.out.write(`Renamed "${tag}" to "${newName}" in "${tagSet}".\n`);
      }),
    );
  tags
    .command('delete <tagSet> <tag>')
    .description('delete a tag with its examples and suggestions')
    .action(
      action(async (tagSet: string, tag: string) => {
        const c = await ctx();
        const { deleteTag } = await import('../listening/tags.service.js');
        const t = await tagOf(c, tagSet, tag);
        const r = await withStore(c, (store) => deleteTag(store, t.id, Date.now()));
        c.out.write(`Deleted "${tag}" from "${tagSet}" with ${int(r.examples)} examples and ${int(r.suggestions)} suggestions.\n`);
      }),
    );
  tags
    .command('rename-set <tagSet> <newName>')
    .description('rename a tag set (its tags, item tags and model move with it)')
    .action(
      action(async (tagSet: string, newName: string) => {
        const c = await ctx();
        const { renameTagSet, tagSetName } = await import('../listening/tags.service.js');
        await withStore(c, (store) => renameTagSet(store, tagSetName(tagSet, 'tagSet'), tagSetName(newName, 'newName')));
        c.out.write(`Renamed tag set "${tagSet}" to "${newName}".\n`);
      }),
    );
  tags
    .command('delete-set <tagSet>')
    .description('delete a tag set: its tags, every item tag of it and its model')
    .action(
      action(async (tagSet: string) => {
        const c = await ctx();
        const { deleteTagSet, tagSetName } = await import('../listening/tags.service.js');
        const r = await withStore(c, (store) => deleteTagSet(store, tagSetName(tagSet, 'tagSet')));
        c.out.write(`Deleted tag set "${tagSet}" with ${int(r.examples)} examples and ${int(r.suggestions)} suggestions.\n`);
      }),
    );
}
