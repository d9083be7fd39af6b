import { WEEK_MS } from '../core/time.js';
import type { Rng } from './random.js';
import type { OrderDefect } from './text.js';

/**
 * The generative story of the demo company, kept pure and separate from message building so
 * that later models (BG/NBD, Gamma-Gamma, theme discovery) can be checked against it.
 *
 * Purchases follow the BG/NBD model of Fader, Hardie & Lee (2005), "Counting your customers
 * the easy way", Marketing Science 24(2): while alive a customer buys as a Poisson process
 * with rate λ ~ Gamma(r, α) (per week); after every repeat purchase they drop out with
 * probability p ~ Beta(a, b). Order values follow the Gamma-Gamma model of Fader, Hardie &
 * Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis", JMR 42(4):
 * each order's value z ~ Gamma(p, ν) with ν ~ Gamma(q, γ) per customer, so E[z | ν] = p/ν.
 */

export interface DefectRate {
  /** Probability that an order suffers it (delivery_late is scaled by the destination country). */
  rate: number;
  /** Extra probability of dropping out after a repeat purchase that suffered it. */
  churnHazard: number;
  /** Share of affected customers who open a ticket about it. */
  ticketShare: number;
}

export interface Population {
  /** Time unit of λ and of the BG/NBD scale α. */
  timeUnit: 'week';
  /** BG/NBD heterogeneity: λ ~ Gamma(r, α) with α a rate (weeks), p ~ Beta(a, b). */
  bgnbd: { r: number; alpha: number; a: number; b: number };
  /** Gamma-Gamma spend: z ~ Gamma(p, ν), ν ~ Gamma(q, γ) (rates), E[z] = pγ/(q − 1). */
  gammaGamma: { p: number; q: number; gamma: number };
  /** Share of signed-up customers who ever buy (the rest stay prospects). */
  buyerShare: number;
  /** Growth of the sign-up rate: density ∝ 1 + growth · (time since start / period). */
  acquisitionGrowth: number;
  /** Dirichlet concentration of category preferences around the category shares. */
  categoryConcentration: number;
  /** Anonymous-only visitors per identified customer. */
  visitorsPerCustomer: number;
  defects: Record<OrderDefect, DefectRate>;
}

/**
 * Near the published CDNOW fits (BG/NBD: r = 0.243, α = 4.414, a = 0.793, b = 2.426;
 * Gamma-Gamma: p = 6.25, q = 3.74, γ = 15.44) with γ scaled ×1.55 so that the mean order is
 * about $55 for a shop of books, music, electronics and home goods rather than 1990s CDs.
 */
export const DEFAULT_POPULATION: Population = Object.freeze({
  timeUnit: 'week',
  bgnbd: { r: 0.24, alpha: 4.4, a: 0.79, b: 2.43 },
  gammaGamma: { p: 6.25, q: 3.74, gamma: 24 },
  buyerShare: 0.8,
  acquisitionGrowth: 1.0,
  categoryConcentration: 2.5,
  visitorsPerCustomer: 0.35,
  defects: {
    delivery_late: { rate: 0.05, churnHazard: 0.35, ticketShare: 0.55 },
    item_damaged: { rate: 0.02, churnHazard: 0.25, ticketShare: 0.8 },
    wrong_item: { rate: 0.01, churnHazard: 0.2, ticketShare: 0.85 },
    double_charge: { rate: 0.006, churnHazard: 0.4, ticketShare: 0.9 },
  },
});

export const ORDER_DEFECT_KINDS: readonly OrderDefect[] = ['delivery_late', 'item_damaged', 'wrong_item', 'double_charge'];

/** Per-order defect probabilities for a customer (late delivery depends on the country). */
export function defectRates(pop: Population, lateMultiplier: number): Record<OrderDefect, number> {
  return {
    delivery_late: Math.min(0.5, pop.defects.delivery_late.rate * lateMultiplier),
    item_damaged: pop.defects.item_damaged.rate,
    wrong_item: pop.defects.wrong_item.rate,
    double_charge: pop.defects.double_charge.rate,
  };
}

/**
 * The dropout probability per repeat purchase that the customer actually faces: defects hit
 * each order independently, and a hit raises that order's dropout from p to
 * 1 − (1 − p)(1 − h). Averaged over hits, survival per purchase is
 * (1 − p) · Π_k (1 − δ_k h_k), a constant, so the customer is still exactly BG/NBD with
 * p_eff = 1 − (1 − p) Π_k (1 − δ_k h_k).
 */
export function effectiveDropout(pop: Population, p: number, rates: Record<OrderDefect, number>): number {
  let survive = 1 - p;
  for (const k of ORDER_DEFECT_KINDS) survive *= 1 - rates[k] * pop.defects[k].churnHazard;
  return 1 - survive;
}

/**
 * E[X(t) | λ, p], expected repeat purchases in (0, t] for a customer alive at 0: death
 * events form a Poisson process thinned by p, so P(alive at s) = e^(−λps) and
 * E[X(t)] = ∫₀ᵗ λ e^(−λps) ds = (1 − e^(−λpt)) / p (FHL 2005, the conditional behind eq. 7).
 */
export function expectedRepeat(lambda: number, p: number, t: number): number {
  if (p <= 0) return lambda * t;
  return (1 - Math.exp(-lambda * p * t)) / p;
}

export interface Purchase {
  at: number;
  defects: OrderDefect[];
  /** The customer dropped out right after this purchase. */
  died: boolean;
}

/**
 * Simulates one customer's purchases from the first (trial) purchase at `firstAt` until
 * `end` (ms). The trial purchase can suffer defects but, as in BG/NBD, dropout can only
 * follow a repeat purchase.
 */
export function simulatePurchases(
  rng: Rng,
  pop: Population,
  c: { lambda: number; p: number; rates: Record<OrderDefect, number> },
  firstAt: number,
  end: number,
): { purchases: Purchase[]; deathAt: number | null } {
  const draw = (): OrderDefect[] => ORDER_DEFECT_KINDS.filter((k) => rng.chance(c.rates[k]));
  const purchases: Purchase[] = [{ at: firstAt, defects: draw(), died: false }];
  const ratePerMs = c.lambda / WEEK_MS;
  let t = firstAt;
  for (;;) {
    t += rng.exponential(ratePerMs);
    if (!(t < end)) return { purchases, deathAt: null };
    const defects = draw();
    let survive = 1 - c.p;
    for (const k of defects) survive *= 1 - pop.defects[k].churnHazard;
    const died = rng.chance(1 - survive);
    purchases.push({ at: t, defects, died });
    if (died) return { purchases, deathAt: t };
  }
}

/** Sign-up time with a growing acquisition rate: inverse CDF of density ∝ 1 + g·x on [0, 1). */
export function acquisitionTime(rng: Rng, start: number, end: number, growth: number): number {
  const u = rng.float();
  const x = growth <= 0 ? u : (-1 + Math.sqrt(1 + 2 * growth * u * (1 + growth / 2))) / growth;
  return start + x * (end - start);
}
