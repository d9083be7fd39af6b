/**
 * V-measure of a clustering against reference classes (Rosenberg & Hirschberg 2007,
 * "V-Measure: A conditional entropy-based external cluster evaluation measure", EMNLP):
 * homogeneity h = 1 − H(C|K)/H(C) (eq. 1: each cluster holds one class), completeness
 * c = 1 − H(K|C)/H(K) (eq. 2: each class sits in one cluster), V = 2hc / (h + c) (eq. 3, β = 1).
 * With H(C) = 0 homogeneity is 1, with H(K) = 0 completeness is 1 (the paper's conventions).
 * V equals normalised mutual information with the arithmetic-mean normaliser, the figure
 * scikit-learn and MTEB report as `v_measure`.
 *
 * @example vMeasure(['a', 'a', 'b', 'b'], [0, 0, 1, 1]) // { homogeneity: 1, completeness: 1, vMeasure: 1, n: 4 }
 */
export function vMeasure(classes: readonly (string | number)[], clusters: readonly (string | number)[]): { homogeneity: number; completeness: number; vMeasure: number; n: number } {
  const n = classes.length;
  if (clusters.length !== n) throw new RangeError(`vMeasure: ${n} classes but ${clusters.length} clusters`);
  if (n === 0) return { homogeneity: 1, completeness: 1, vMeasure: 1, n: 0 };
  const joint = new Map<string, number>();
  const byClass = new Map<string | number, number>();
  const byCluster = new Map<string | number, number>();
  for (let i = 0; i < n; i++) {
    const c = classes[i]!;
    const k = clusters[i]!;
    const key = JSON.stringify([c, k]);
    joint.set(key, (joint.get(key) ?? 0) + 1);
    byClass.set(c, (byClass.get(c) ?? 0) + 1);
    byCluster.set(k, (byCluster.get(k) ?? 0) + 1);
  }
  const entropy = (m: Map<string | number, number>): number => {
    let h = 0;
    for (const v of m.values()) h -= (v / n) * Math.log(v / n);
    return h;
  };
  const hC = entropy(byClass);
  const hK = entropy(byCluster);
  let hCgivenK = 0;
  let hKgivenC = 0;
  for (const [key, v] of joint) {
    const [c, k] = JSON.parse(key) as [string | number, string | number];
    hCgivenK -= (v / n) * Math.log(v / byCluster.get(k)!);
    hKgivenC -= (v / n) * Math.log(v / byClass.get(c)!);
  }
  const homogeneity = hC === 0 ? 1 : 1 - hCgivenK / hC;
  const completeness = hK === 0 ? 1 : 1 - hKgivenC / hK;
  const v = homogeneity + completeness === 0 ? 0 : (2 * homogeneity * completeness) / (homogeneity + completeness);
  return { homogeneity, completeness, vMeasure: v, n };
}
