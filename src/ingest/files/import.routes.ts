import path from 'node:path';
import type { HttpContext } from '../../http/context.js';
import { route, type RouteDef } from '../../http/route.js';
import { FILE_CONTENT_TYPES, receiveFile } from '../../http/upload.js';
import type { IngestWriter } from '../writer/writer.js';
import { importJob } from './import.job.js';
import { ImportQuery, ImportResult, importResult, uploadFormat, withUploadDir } from './import.service.js';
import { checkMapping, ImportPreview, previewMapped } from './preview.js';

/** The default largest upload: 50 MB (`RAPPORT_IMPORT_MAX_MB`). */
export const IMPORT_MAX_BYTES = 50 * 1024 * 1024;

/**
 * File imports over HTTP, for the web app's Import page: a preview that shows how the file's
 * columns map to fields and how its first rows read, writing nothing, then the import with the
 * mapping chosen. Both take the file as the request body (upload.ts) and the options in the
 * query string, keep it in a temporary directory for the request only, and are for people who
 * may change data: a signed-in team member or an admin key (a read key may not).
 */
export function importRoutes(ctx: HttpContext, writer: IngestWriter, options: { maxBytes?: number | undefined } = {}): RouteDef<unknown, unknown, unknown>[] {
  const maxBytes = options.maxBytes ?? IMPORT_MAX_BYTES;
  const fileBody = {
    contentTypes: FILE_CONTENT_TYPES,
    description: `The file's bytes (CSV with a header row, or NDJSON), at most ${Math.round(maxBytes / 1024 / 1024)} MB`,
    maxBytes,
  };
  const upload = async <T>(req: Parameters<typeof receiveFile>[0], query: ImportQuery, fn: (file: string, dir: string, format: string) => Promise<T>): Promise<T> => {
    const format = uploadFormat(query, req.headers['content-type']);
    return withUploadDir(async (dir) => {
      const file = path.join(dir, `upload.${format}`);
      await receiveFile(req, file, maxBytes);
      return fn(file, dir, format);
    });
  };
  return [
    route({
      method: 'POST',
      url: '/api/import/preview',
      summary: "Preview a file's import: the mapping of its columns to fields, its date order, its first rows as read (writes nothing)",
      tags: ['Import'],
      auth: 'editor',
      query: ImportQuery,
      fileBody,
      response: ImportPreview,
      handler: ({ query, req }) => upload(req, query, (file, _dir, format) => previewMapped({ file, kind: query.kind, format, map: query.map, dateOrder: query.dateOrder, clock: ctx.clock })),
    }),
    route({
      method: 'POST',
      url: '/api/import',
      summary: 'Import a file with the mapping chosen: rows stored, rows rejected (row, field, reason) and the reject report',
      tags: ['Import'],
      auth: 'editor',
      query: ImportQuery,
      fileBody,
      response: ImportResult,
      handler: ({ query, req }) =>
        upload(req, query, async (file, dir, format) => {
          const options = { file, kind: query.kind, format, map: query.map, dateOrder: query.dateOrder };
          // Refused before anything is written: a mapping the preview would show as blocking.
          const dateOrder = await checkMapping(options);
          const summary = await ctx.jobs.run(importJob, { ...options, dateOrder, report: path.join(dir, 'rejected.csv'), trigger: 'api' });
          // The import may have merged customers: the tracking writer's cached ids could be stale.
          writer.forget();
          return importResult(summary, dateOrder);
        }),
    }),
  ] as RouteDef<unknown, unknown, unknown>[];
}
