/**
 * Micro-segments: customers clustered on what they buy, how often, how much they are worth
 * and where they talk to the company, each cluster described by what sets it apart.
 *
 * Preference vector of a customer (blocks; columns z-scored and weighted 1/√(block size) so
 * that no block outweighs another by having more columns, except categories, weighted 2/√C:
 * what customers buy is what a segment is first of all about; with equal weights the
 * clusters only separated value and cadence, which RFM already shows):
 *  - category spend shares (the most common categories),
 *  - cadence: bought again or not, and the log of the mean days between purchases,
 *  - value: log(1 + CLV),
 *  - channel mix: shares of interactions per channel (the most common channels).
 * k is chosen by the mean silhouette (kmeans.ts) on a sample; everyone is then assigned to
 * the nearest centre.
 */
import { assign, chooseK } from './kmeans.js';

export interface SegmentInput {
  /** Customers in rows; category and channel matrices are n × columns, row-major. */
  n: number;
  categories: string[];
  /** Spend per customer and category (not shares). */
  categorySpend: Float64Array;
  /** Mean days between purchases, NaN for one-time buyers. */
  cadenceDays: Float64Array;
  value: Float64Array;
  channels: string[];
  /** Interactions per customer and channel. */
  channelCounts: Float64Array;
}

export interface SegmentCard {
  id: number;
  /** "Mostly Books, buys every ~6 weeks, high value" */
  label: string;
  customers: number;
  share: number;
  meanValue: number;
  repeatShare: number;
  medianCadenceDays: number | null;
  topCategories: { category: string; share: number; overall: number }[];
  topChannel: { channel: string; share: number; overall: number } | null;
  /** The features that set the segment apart, largest difference first, in words. */
  distinguishing: string[];
}

export interface SegmentResult {
  k: number;
  criterion: string;
  silhouettes: { k: number; silhouette: number }[];
  labels: Int32Array;
  cards: SegmentCard[];
  /** Customers the centres were fitted on (a systematic sample above FIT_SAMPLE). */
  fittedOn: number;
}

const FIT_SAMPLE = 10_000;

function shares(m: Float64Array, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += m[i * c + j]!;
    if (s > 0) for (let j = 0; j < c; j++) out[i * c + j] = m[i * c + j]! / s;
  }
  return out;
}

/** The feature matrix (n × d) from the input; columns z-scored and block-weighted. */
export function segmentFeatures(input: SegmentInput): { x: Float64Array; d: number } {
  const { n } = input;
  const C = input.categories.length;
  const H = input.channels.length;
  const cat = shares(input.categorySpend, n, C);
  const ch = shares(input.channelCounts, n, H);
  let cadenceMedian = 0;
  const cad = [...input.cadenceDays].filter(Number.isFinite).sort((a, b) => a - b);
  if (cad.length > 0) cadenceMedian = cad[Math.floor(cad.length / 2)]!;
  const d = C + 2 + 1 + H;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < C; j++) x[o + j] = cat[i * C + j]!;
    const c = input.cadenceDays[i]!;
    x[o + C] = Number.isFinite(c) ? 1 : 0;
    x[o + C + 1] = Math.log1p(Number.isFinite(c) ? c : cadenceMedian);
    x[o + C + 2] = Math.log1p(Math.max(0, input.value[i]!));
    for (let j = 0; j < H; j++) x[o + C + 3 + j] = ch[i * H + j]!;
  }
  const weight = new Float64Array(d);
  for (let j = 0; j < d; j++) weight[j] = j < C ? 2 / Math.sqrt(C) : j < C + 2 ? 1 / Math.SQRT2 : j < C + 3 ? 1 : 1 / Math.sqrt(H);
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * d + j]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[i * d + j]! - mean) ** 2;
    const sd = Math.sqrt(v / n);
    for (let i = 0; i < n; i++) x[i * d + j] = sd > 0 ? ((x[i * d + j]! - mean) / sd) * weight[j]! : 0;
  }
  return { x, d };
}

function cadenceWords(days: number | null, repeatShare: number): string {
  if (days === null || repeatShare < 0.3) return 'mostly one-time buyers';
  if (days < 10) return 'buys weekly';
  if (days < 24) return `buys every ~${Math.round(days / 7)} weeks`;
  if (days < 45) return 'buys monthly';
  if (days < 300) return `buys every ~${Math.round(days / 30.4)} months`;
  return 'buys about yearly';
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const pct = (v: number): string => `${Math.round(v * 100)}%`;

/** Cards: size, value, cadence, the categories and channel that dominate, and what differs most from everyone. */
export function describeSegments(input: SegmentInput, labels: Int32Array, k: number): SegmentCard[] {
  const { n } = input;
  const C = input.categories.length;
  const H = input.channels.length;
  const cat = shares(input.categorySpend, n, C);
  const ch = shares(input.channelCounts, n, H);
  const overallCat = new Float64Array(C);
  const overallCh = new Float64Array(H);
  let overallValue = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < C; j++) overallCat[j]! += cat[i * C + j]! / n;
    for (let j = 0; j < H; j++) overallCh[j]! += ch[i * H + j]! / n;
    overallValue += input.value[i]! / n;
  }
  const cards: SegmentCard[] = [];
  for (let m = 0; m < k; m++) {
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i] === m) members.push(i);
    if (members.length === 0) continue;
    const catMean = new Float64Array(C);
    const chMean = new Float64Array(H);
    let value = 0;
    const cadences: number[] = [];
    for (const i of members) {
      for (let j = 0; j < C; j++) catMean[j]! += cat[i * C + j]! / members.length;
      for (let j = 0; j < H; j++) chMean[j]! += ch[i * H + j]! / members.length;
      value += input.value[i]! / members.length;
      if (Number.isFinite(input.cadenceDays[i]!)) cadences.push(input.cadenceDays[i]!);
    }
    const repeatShare = cadences.length / members.length;
    const cadence = median(cadences);
    const topCategories = [...catMean]
      .map((share, j) => ({ category: input.categories[j]!, share, overall: overallCat[j]! }))
      .sort((a, b) => b.share - a.share)
      .slice(0, 3);
    const chOrder = [...chMean].map((share, j) => ({ channel: input.channels[j]!, share, overall: overallCh[j]! })).sort((a, b) => b.share - a.share);
    const topChannel = chOrder[0] && chOrder[0].share > 0 ? chOrder[0] : null;
    const parts: string[] = [];
    const [c1, c2] = topCategories;
    if (c1 && c1.share >= 0.5) parts.push(`mostly ${c1.category}`);
    else if (c1 && c2 && c1.share + c2.share >= 0.6) parts.push(`${c1.category} and ${c2.category}`);
    else if (c1 && c1.share > 0) parts.push('mixed basket');
    parts.push(cadenceWords(cadence, repeatShare));
    const ratio = overallValue > 0 ? value / overallValue : 1;
    parts.push(ratio >= 1.5 ? 'high value' : ratio <= 0.6 ? 'low value' : 'average value');
    if (topChannel && topChannel.share >= 0.5 && topChannel.share - topChannel.overall >= 0.15) parts.push(`mostly via ${topChannel.channel}`);
    // What differs most from everyone, in words.
    const diffs: { size: number; text: string }[] = [];
    for (let j = 0; j < C; j++) {
      diffs.push({ size: Math.abs(catMean[j]! - overallCat[j]!), text: `${input.categories[j]} ${pct(catMean[j]!)} of spend (everyone: ${pct(overallCat[j]!)})` });
    }
    for (let j = 0; j < H; j++) {
      diffs.push({ size: Math.abs(chMean[j]! - overallCh[j]!), text: `${input.channels[j]} ${pct(chMean[j]!)} of interactions (everyone: ${pct(overallCh[j]!)})` });
    }
    diffs.push({ size: Math.abs(Math.log(Math.max(ratio, 1e-6))) / 2, text: `value ${ratio.toFixed(1)}× the average customer` });
    const label = parts.join(', ');
    cards.push({
      id: m,
      label: label.charAt(0).toUpperCase() + label.slice(1),
      customers: members.length,
      share: members.length / n,
      meanValue: value,
      repeatShare,
      medianCadenceDays: cadence,
      topCategories,
      topChannel,
      distinguishing: diffs
        .sort((a, b) => b.size - a.size)
        .slice(0, 3)
        .map((d) => d.text),
    });
  }
  return cards.sort((a, b) => b.meanValue * b.customers - a.meanValue * a.customers);
}

/** Clusters customers (k from minK to maxK by silhouette) and describes each segment. */
export function microSegments(input: SegmentInput, options: { seed: number; minK?: number; maxK?: number }): SegmentResult {
  const { x, d } = segmentFeatures(input);
  const n = input.n;
  const every = Math.max(1, Math.ceil(n / FIT_SAMPLE));
  const m = Math.ceil(n / every);
  const sample = new Float64Array(m * d);
  for (let s = 0; s < m; s++) sample.set(x.subarray(s * every * d, s * every * d + d), s * d);
  const fit = chooseK(sample, d, { minK: options.minK ?? 3, maxK: options.maxK ?? 10, seed: options.seed, sampleSize: 1500, restarts: 3 });
  const labels = new Int32Array(n);
  assign(x, d, fit.centroids, labels);
  return {
    k: fit.k,
    criterion: `k from ${options.minK ?? 3} to ${options.maxK ?? 10} with the highest mean silhouette on a sample of ${Math.min(m, 1500).toLocaleString('en-US')} customers`,
    silhouettes: fit.scores,
    labels,
    cards: describeSegments(input, labels, fit.k),
    fittedOn: m,
  };
}
