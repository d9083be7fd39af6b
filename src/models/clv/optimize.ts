import numeric from 'numeric';

/**
 * Maximum-likelihood fitting shared by the CLV models: BFGS with a backtracking line search
 * (numeric's `uncmin`) on the logarithms of the parameters, so every parameter stays positive
 * without bounds. The objective is the mean negative log-likelihood (plus an optional L2
 * penalty), which keeps the tolerance meaningful whatever the number of customers.
 *
 * Convergence is judged here, not taken from the optimizer's message: a fit is converged when
 * the gradient of the mean log-likelihood is below `gradientTolerance` in every coordinate.
 * A fit that is not converged says so (never a silent bad fit).
 */
const RESTARTS = 5;

export interface Convergence {
  converged: boolean;
  iterations: number;
  /** Largest |∂(mean log-likelihood)/∂ ln θ| at the solution. */
  gradientNorm: number;
  message: string;
}

export interface MleResult {
  /** The parameters (natural scale). */
  params: number[];
  /** Total log-likelihood at the parameters (without the penalty). */
  logLikelihood: number;
  convergence: Convergence;
  /** BFGS's estimate of the inverse Hessian of the objective in ln θ (a warm start for a refit). */
  hessianInverse: number[][];
}

/**
 * Log-likelihood and its gradient with respect to the natural parameters, summed over the
 * data. `grad` receives the gradient; the return value is the log-likelihood.
 */
export type LogLikelihood = (params: Float64Array, grad: Float64Array) => number;

export interface MleOptions {
  /** Starting values (natural scale, all > 0). */
  start: readonly number[];
  /** Total weight of the data (customers): the objective is divided by it. */
  weight: number;
  /** L2 penalty on the parameters, as in lifetimes' `penalizer_coef` (0: plain MLE). */
  penalizer?: number;
  maxIterations?: number;
  gradientTolerance?: number;
  /** Starting inverse Hessian (in ln θ), e.g. from a fit on a subsample: saves most iterations. */
  hessianInverse?: number[][];
}

export function maximizeLikelihood(ll: LogLikelihood, options: MleOptions): MleResult {
  const n = options.start.length;
  const penalizer = options.penalizer ?? 0;
  const tol = options.gradientTolerance ?? 1e-6;
  const params = new Float64Array(n);
  const grad = new Float64Array(n);
  let cachedAt: number[] | undefined;
  let cachedValue = 0;
  let cachedGrad: number[] = [];
  let cachedLl = 0;
  const evaluate = (logTheta: number[]): void => {
    if (cachedAt && cachedAt.every((v, i) => v === logTheta[i])) return;
    for (let i = 0; i < n; i++) params[i] = Math.exp(logTheta[i]!);
    grad.fill(0);
    const value = ll(params, grad);
    let penalty = 0;
    const g: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const p = params[i]!;
      penalty += p * p;
      // d/d ln θ = θ · d/dθ; the objective is −mean LL + penalizer · Σθ².
      g[i] = -(grad[i]! * p) / options.weight + 2 * penalizer * p * p;
    }
    cachedAt = logTheta.slice();
    cachedLl = value;
    cachedValue = Number.isFinite(value) ? -value / options.weight + penalizer * penalty : Number.NaN;
    cachedGrad = g;
  };
  const f = (x: number[]): number => {
    evaluate(x);
    return cachedValue;
  };
  const gradient = (x: number[]): number[] => {
    evaluate(x);
    return cachedGrad;
  };
  const x0 = options.start.map((v) => Math.log(v));
  // Stop once the gradient is well inside the tolerance: more iterations change nothing that shows.
  const done = (_it: number, _x: number[], _f: number, g: number[]): boolean => g.every((v) => Math.abs(v) < tol * 1e-2);
  const maxIterations = options.maxIterations ?? 500;
  let result = numeric.uncmin(f, x0, 1e-12, gradient, maxIterations, done, options.hessianInverse ? { Hinv: options.hessianInverse } : undefined);
  let iterations = result.iterations;
  // uncmin updates its inverse Hessian even where the curvature condition fails, which can leave
  // it indefinite and the line search stuck away from the optimum: start afresh from where it
  // stopped (identity Hessian) while that still improves the objective.
  for (let restart = 0; restart < RESTARTS && iterations < maxIterations; restart++) {
    const at = result.solution;
    const g = gradient(at);
    if (g.every((v) => Math.abs(v) < tol)) break;
    const again = numeric.uncmin(f, at, 1e-12, gradient, maxIterations - iterations, done);
    iterations += again.iterations;
    if (!(again.f < result.f)) break;
    result = again;
  }
  const solution = result.solution;
  evaluate(solution);
  const gradientNorm = Math.max(...cachedGrad.map((g, i) => Math.abs(g - 2 * penalizer * Math.exp(2 * solution[i]!))));
  const penalizedNorm = Math.max(...cachedGrad.map(Math.abs));
  const finite = Number.isFinite(cachedLl) && solution.every(Number.isFinite);
  const converged = finite && (penalizer > 0 ? penalizedNorm : gradientNorm) < tol;
  return {
    params: solution.map((v) => Math.exp(v)),
    logLikelihood: cachedLl,
    hessianInverse: result.invHessian,
    convergence: {
      converged,
      iterations,
      gradientNorm: penalizer > 0 ? penalizedNorm : gradientNorm,
      message: converged ? 'converged' : finite ? `not converged (${String(result.message)})` : 'the likelihood is not finite at the solution',
    },
  };
}
