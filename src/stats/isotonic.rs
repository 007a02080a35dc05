//! Weighted increasing isotonic regression by pool-adjacent-violators, and
//! the breakpoint form that the live service interpolates.
//!
//! Main types: [`IsotonicFit`] (blocks, breakpoints, counts), its
//! [`IsotonicBlock`]s and [`Breakpoint`]s. [`interpolate`] is the whole of
//! what a consumer of a saved calibration map needs: linear between
//! breakpoints, clamped outside them.

use serde::{Deserialize, Serialize};

use crate::core::ParamRangeError;
use crate::stats::check_same_len;

/// One constant piece of the fit: all points with x in [x_lo, x_hi].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IsotonicBlock {
    pub x_lo: f64,
    pub x_hi: f64,
    /// Weighted mean of y over the block.
    pub value: f64,
    /// Sum of the weights in the block.
    pub weight: f64,
    /// Number of data points in the block.
    pub count: usize,
}

/// A knot of the piecewise-linear map: both ends of every block.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breakpoint {
    pub x: f64,
    pub y: f64,
}

/// A fitted increasing step function and its interpolable breakpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IsotonicFit {
    /// Blocks in increasing x, values non-decreasing, x ranges disjoint.
    pub blocks: Vec<IsotonicBlock>,
    /// (x_lo, value) and, when wider than a point, (x_hi, value) per block;
    /// x strictly increasing, y non-decreasing.
    pub breakpoints: Vec<Breakpoint>,
    /// Points that entered the fit.
    pub n_used: usize,
    /// Points dropped because x, y or the weight was NaN or infinite.
    pub n_dropped_nonfinite: usize,
}

impl IsotonicFit {
    /// The fitted map at `x`: [`interpolate`] over the breakpoints. Equals
    /// the block value at every fitted data point.
    pub fn predict(&self, x: f64) -> f64 {
        interpolate(&self.breakpoints, x)
    }
}

/// Weighted increasing isotonic regression of y on x by the
/// pool-adjacent-violators algorithm (PAV).
///
/// Solves: minimise sum w_i (y_i - f_i)^2 subject to f_i <= f_j whenever
/// x_i < x_j. Points are sorted by x (stable), points with equal x are
/// pooled into one weighted mean first (so they share one fitted value and
/// the answer does not depend on their input order), then adjacent blocks
/// are merged while the left mean exceeds the right one. Each merge takes
/// the weighted mean; equal adjacent means are left as separate blocks.
///
/// `weights` = None means all 1. Edge cases: points with a non-finite x, y
/// or weight are dropped and counted in `n_dropped_nonfinite`; empty input
/// (or nothing left) gives no blocks, and `predict` then returns NaN;
/// already-increasing input is returned unchanged; fully decreasing input
/// becomes one block at the weighted mean; constant y gives that constant.
/// Errors: lengths differ, a finite weight <= 0.
///
/// References: Ayer, M. et al. (1955), "An empirical distribution function
/// for sampling with incomplete information", Annals of Mathematical
/// Statistics 26(4), 641-647; Barlow, R. E. et al. (1972), Statistical
/// Inference under Order Restrictions, Wiley.
pub fn isotonic_fit(
    x: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<IsotonicFit, ParamRangeError> {
    // Phase 1: validate, drop non-finite points, sort by x.
    check_same_len("y", y.len(), x.len())?;
    if let Some(w) = weights {
        check_same_len("weights", w.len(), x.len())?;
    }
    let mut points = finite_points(x, y, weights)?;
    let n_dropped_nonfinite = x.len() - points.len();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));

    // Phase 2: pool ties in x, then pool adjacent violators.
    let mut stack: Vec<Pool> = Vec::new();
    for pool in pool_ties(&points) {
        stack.push(pool);
        while stack.len() >= 2 && stack[stack.len() - 2].mean() > stack[stack.len() - 1].mean() {
            let right = stack.pop().expect("len >= 2");
            stack.last_mut().expect("len >= 1").absorb(&right);
        }
    }

    // Phase 3: blocks and breakpoints.
    let blocks: Vec<IsotonicBlock> = stack.into_iter().map(Pool::into_block).collect();
    let breakpoints = breakpoints_of(&blocks);
    Ok(IsotonicFit { blocks, breakpoints, n_used: points.len(), n_dropped_nonfinite })
}

/// Piecewise-linear interpolation through breakpoints sorted by x, clamped
/// to the first and last y outside [first x, last x].
///
/// Inside a block (between its two knots) this is the block value; between
/// blocks it is the straight line from one block's end to the next block's
/// start, which keeps the map increasing and continuous. Empty breakpoints
/// or a NaN `x` give NaN; one breakpoint gives its y everywhere.
/// The caller guarantees ascending x (an [`IsotonicFit`] always has it).
pub fn interpolate(breakpoints: &[Breakpoint], x: f64) -> f64 {
    let (Some(first), Some(last)) = (breakpoints.first(), breakpoints.last()) else {
        return f64::NAN;
    };
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= first.x {
        return first.y;
    }
    if x >= last.x {
        return last.y;
    }
    // First knot strictly right of x; it exists and is not the first knot.
    let i = breakpoints.partition_point(|b| b.x <= x);
    let (a, b) = (breakpoints[i - 1], breakpoints[i]);
    a.y + (x - a.x) / (b.x - a.x) * (b.y - a.y)
}

/// A run of points being pooled: sums are kept so merging is O(1).
#[derive(Clone, Copy, Debug)]
struct Pool {
    x_lo: f64,
    x_hi: f64,
    sum_w: f64,
    sum_wy: f64,
    count: usize,
}

impl Pool {
    fn mean(&self) -> f64 {
        self.sum_wy / self.sum_w
    }

    fn absorb(&mut self, right: &Pool) {
        self.x_hi = right.x_hi;
        self.sum_w += right.sum_w;
        self.sum_wy += right.sum_wy;
        self.count += right.count;
    }

    fn into_block(self) -> IsotonicBlock {
        let (x_lo, x_hi, weight, count) = (self.x_lo, self.x_hi, self.sum_w, self.count);
        IsotonicBlock { x_lo, x_hi, value: self.mean(), weight, count }
    }
}

/// (x, y, w) for the points whose three values are finite; an error for a
/// finite weight <= 0, which would make a pooled mean undefined.
fn finite_points(
    x: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Vec<(f64, f64, f64)>, ParamRangeError> {
    let mut points = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        let w = weights.map_or(1.0, |w| w[i]);
        if w.is_finite() && w <= 0.0 {
            return Err(ParamRangeError::new(&format!("weights[{i}]"), "(0, inf)", w));
        }
        if x[i].is_finite() && y[i].is_finite() && w.is_finite() {
            points.push((x[i], y[i], w));
        }
    }
    Ok(points)
}

/// One pool per distinct x of points sorted by x.
fn pool_ties(points: &[(f64, f64, f64)]) -> Vec<Pool> {
    let mut pools: Vec<Pool> = Vec::new();
    for &(x, y, w) in points {
        match pools.last_mut() {
            Some(last) if last.x_hi == x => {
                last.sum_w += w;
                last.sum_wy += w * y;
                last.count += 1;
            }
            _ => pools.push(Pool { x_lo: x, x_hi: x, sum_w: w, sum_wy: w * y, count: 1 }),
        }
    }
    pools
}

fn breakpoints_of(blocks: &[IsotonicBlock]) -> Vec<Breakpoint> {
    let mut knots = Vec::with_capacity(2 * blocks.len());
    for b in blocks {
        knots.push(Breakpoint { x: b.x_lo, y: b.value });
        if b.x_hi > b.x_lo {
            knots.push(Breakpoint { x: b.x_hi, y: b.value });
        }
    }
    knots
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::traits::{Fit, Predict};
    use linfa::Dataset;
    use linfa_linear::IsotonicRegression;
    use ndarray::{Array1, Array2};

    const EPS: f64 = 1e-12;

    fn values(fit: &IsotonicFit) -> Vec<f64> {
        fit.blocks.iter().map(|b| b.value).collect()
    }

    fn ranges(fit: &IsotonicFit) -> Vec<(f64, f64)> {
        fit.blocks.iter().map(|b| (b.x_lo, b.x_hi)).collect()
    }

    fn assert_all_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < EPS, "{got:?} vs {want:?}");
        }
    }

    /// y = 1, 2, 6, 2, 1, 2, 8, 2, 1 at x = 1..9, pooled by hand:
    /// 6, 2, 1, 2 -> 11 / 4 = 2.75 and 8, 2, 1 -> 11 / 3.
    fn worked_example() -> IsotonicFit {
        let x: Vec<f64> = (1..=9).map(f64::from).collect();
        let y = [1.0, 2.0, 6.0, 2.0, 1.0, 2.0, 8.0, 2.0, 1.0];
        isotonic_fit(&x, &y, None).unwrap()
    }

    #[test]
    fn pav_pools_violators_into_hand_worked_blocks() {
        let fit = worked_example();
        assert_all_close(&values(&fit), &[1.0, 2.0, 2.75, 11.0 / 3.0]);
        assert_eq!(ranges(&fit), vec![(1.0, 1.0), (2.0, 2.0), (3.0, 6.0), (7.0, 9.0)]);
        assert_eq!(fit.blocks[2].count, 4);
        assert_eq!(fit.blocks[3].weight, 3.0);
    }

    #[test]
    fn breakpoints_are_block_ends_and_interpolate_between_blocks() {
        let fit = worked_example();
        let knots: Vec<(f64, f64)> = fit.breakpoints.iter().map(|b| (b.x, b.y)).collect();
        assert_eq!(knots.len(), 6);
        assert_eq!(knots[..4], [(1.0, 1.0), (2.0, 2.0), (3.0, 2.75), (6.0, 2.75)]);
        assert_eq!(knots[4].0, 7.0);
        // Between blocks: 2 + 0.5 * (2.75 - 2); 2.75 + 0.5 * (11/3 - 2.75).
        assert!((fit.predict(2.5) - 2.375).abs() < EPS);
        assert!((fit.predict(6.5) - (2.75 + 0.5 * (11.0 / 3.0 - 2.75))).abs() < EPS);
        // Inside a block: its value.
        assert!((fit.predict(4.2) - 2.75).abs() < EPS);
    }

    #[test]
    fn interpolate_clamps_outside_fitted_range() {
        let fit = worked_example();
        assert_eq!(fit.predict(-100.0), 1.0);
        assert_eq!(fit.predict(1.0), 1.0);
        assert!((fit.predict(1e9) - 11.0 / 3.0).abs() < EPS);
    }

    #[test]
    fn interpolate_of_empty_or_nan_is_nan_and_single_knot_is_constant() {
        assert!(interpolate(&[], 0.3).is_nan());
        let one = [Breakpoint { x: 0.5, y: 0.2 }];
        assert_eq!((interpolate(&one, 0.0), interpolate(&one, 9.0)), (0.2, 0.2));
        assert!(interpolate(&one, f64::NAN).is_nan());
    }

    #[test]
    fn already_increasing_input_is_unchanged() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [0.1, 0.2, 0.2, 0.5];
        let fit = isotonic_fit(&x, &y, None).unwrap();
        assert_eq!(values(&fit), y.to_vec());
        for (xi, yi) in x.iter().zip(y) {
            assert_eq!(fit.predict(*xi), yi);
        }
    }

    #[test]
    fn fully_decreasing_input_becomes_one_block_at_the_mean() {
        let fit = isotonic_fit(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0], None).unwrap();
        assert_eq!(values(&fit), vec![2.5]);
        assert_eq!(ranges(&fit), vec![(1.0, 4.0)]);
    }

    #[test]
    fn fully_decreasing_weighted_input_becomes_the_weighted_mean() {
        // (4 + 3 + 2 + 5 * 1) / 8 = 1.75.
        let w = [1.0, 1.0, 1.0, 5.0];
        let fit = isotonic_fit(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0], Some(&w)).unwrap();
        assert_eq!(values(&fit), vec![1.75]);
        assert_eq!(fit.blocks[0].weight, 8.0);
    }

    #[test]
    fn weights_move_a_pooled_value_toward_the_heavy_point() {
        // (1 * 1 + 3 * 0) / 4 = 0.25; unweighted it would be 0.5.
        let (x, y) = ([1.0, 2.0, 3.0], [1.0, 0.0, 0.5]);
        let fit = isotonic_fit(&x, &y, Some(&[1.0, 3.0, 1.0])).unwrap();
        assert_all_close(&values(&fit), &[0.25, 0.5]);
        let plain = isotonic_fit(&x, &y, None).unwrap();
        assert_all_close(&values(&plain), &[0.5, 0.5]);
    }

    #[test]
    fn ties_in_x_are_pooled_before_pav_and_order_does_not_matter() {
        // x=1 -> 0.5, x=2 -> 0.2, x=3 -> 0.5; 0.5 > 0.2 pools to 1.2 / 3 = 0.4.
        let fit = isotonic_fit(&[1.0, 1.0, 2.0, 3.0, 3.0], &[0.0, 1.0, 0.2, 1.0, 0.0], None);
        let fit = fit.unwrap();
        assert_all_close(&values(&fit), &[0.4, 0.5]);
        assert_eq!(ranges(&fit), vec![(1.0, 2.0), (3.0, 3.0)]);
        let shuffled = isotonic_fit(&[3.0, 1.0, 2.0, 3.0, 1.0], &[0.0, 1.0, 0.2, 1.0, 0.0], None);
        assert_eq!(shuffled.unwrap(), fit);
    }

    #[test]
    fn constant_response_gives_the_constant_everywhere() {
        let fit = isotonic_fit(&[3.0, 1.0, 2.0], &[0.3, 0.3, 0.3], None).unwrap();
        for x in [0.0, 1.0, 1.5, 2.0, 3.0, 4.0] {
            assert_eq!(fit.predict(x), 0.3);
        }
    }

    #[test]
    fn empty_input_gives_no_blocks_and_nan_predictions() {
        let fit = isotonic_fit(&[], &[], None).unwrap();
        assert!(fit.blocks.is_empty() && fit.breakpoints.is_empty());
        assert_eq!((fit.n_used, fit.n_dropped_nonfinite), (0, 0));
        assert!(fit.predict(0.5).is_nan());
    }

    #[test]
    fn non_finite_points_are_dropped_and_counted() {
        let x = [1.0, f64::NAN, 2.0, 3.0, 4.0, 5.0];
        let y = [0.0, 5.0, f64::NAN, 1.0, f64::INFINITY, 0.5];
        let w = [1.0, 1.0, 1.0, 1.0, 1.0, f64::NAN];
        let fit = isotonic_fit(&x, &y, Some(&w)).unwrap();
        assert_eq!((fit.n_used, fit.n_dropped_nonfinite), (2, 4));
        assert_eq!(values(&fit), vec![0.0, 1.0]);
    }

    #[test]
    fn bad_weights_and_lengths_are_rejected() {
        let err = isotonic_fit(&[1.0, 2.0], &[0.0, 1.0], Some(&[1.0, 0.0])).unwrap_err();
        assert_eq!(err.name, "weights[1]");
        assert!(isotonic_fit(&[1.0, 2.0], &[0.0, 1.0], Some(&[-1.0, 1.0])).is_err());
        assert_eq!(isotonic_fit(&[1.0, 2.0], &[0.0], None).unwrap_err().name, "y");
        assert_eq!(isotonic_fit(&[1.0], &[0.0], Some(&[])).unwrap_err().name, "weights");
    }

    #[test]
    fn fit_round_trips_through_json() {
        let fit = worked_example();
        let back: IsotonicFit =
            serde_json::from_str(&serde_json::to_string(&fit).unwrap()).unwrap();
        assert_eq!(back, fit);
    }

    /// linfa-linear interpolates between block right ends, so the two maps
    /// agree exactly at each block's largest x (where linfa's knot sits) and
    /// the block values are compared there. linfa needs x sorted and a
    /// positive Pearson correlation to fit an increasing map, and takes f32
    /// weights (the ones used here are exact in f32).
    fn assert_matches_linfa(x: &[f64], y: &[f64], w: Option<&[f64]>) {
        let fit = isotonic_fit(x, y, w).unwrap();
        let records = Array2::from_shape_vec((x.len(), 1), x.to_vec()).unwrap();
        let mut data = Dataset::new(records, Array1::from(y.to_vec()));
        if let Some(w) = w {
            data = data.with_weights(w.iter().map(|v| *v as f32).collect());
        }
        let model = IsotonicRegression::new().fit(&data).unwrap();

        let ends: Vec<f64> = fit.blocks.iter().map(|b| b.x_hi).collect();
        let theirs = model.predict(&Array2::from_shape_vec((ends.len(), 1), ends).unwrap());
        assert_all_close(theirs.as_slice().unwrap(), &values(&fit));
    }

    #[test]
    fn pav_agrees_with_linfa_isotonic_regression_unweighted() {
        let x: Vec<f64> = (1..=12).map(f64::from).collect();
        let y = [0.3, 0.1, 0.4, 0.35, 0.6, 0.2, 0.7, 0.65, 0.9, 0.5, 0.95, 0.8];
        assert_matches_linfa(&x, &y, None);
        assert_eq!(isotonic_fit(&x, &y, None).unwrap().blocks.len(), 6);
    }

    /// Reference solution by the max-min formula (Barlow et al. 1972,
    /// ch. 1): f_i = max_{j <= i} min_{k >= i} Av(j..=k), with Av the
    /// weighted mean, over distinct integer x with ties pooled. O(m^3).
    fn max_min_reference(x: &[i64], y: &[f64], w: &[f64]) -> Vec<(f64, f64)> {
        let mut pooled: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
        for i in 0..x.len() {
            let e = pooled.entry(x[i]).or_insert((0.0, 0.0));
            *e = (e.0 + w[i], e.1 + w[i] * y[i]);
        }
        let (xs, sums): (Vec<i64>, Vec<(f64, f64)>) = pooled.into_iter().unzip();
        let av = |j: usize, k: usize| {
            let (sw, swy) = sums[j..=k].iter().fold((0.0, 0.0), |a, s| (a.0 + s.0, a.1 + s.1));
            swy / sw
        };
        let m = xs.len();
        (0..m)
            .map(|i| {
                let f = (0..=i)
                    .map(|j| (i..m).map(|k| av(j, k)).fold(f64::INFINITY, f64::min))
                    .fold(f64::NEG_INFINITY, f64::max);
                (xs[i] as f64, f)
            })
            .collect()
    }

    #[test]
    fn pav_equals_max_min_formula_on_seeded_random_data_with_ties_and_weights() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
        for _ in 0..200 {
            let n = rng.random_range(1..16);
            let x: Vec<i64> = (0..n).map(|_| rng.random_range(0..8)).collect();
            let y: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let w: Vec<f64> = (0..n).map(|_| rng.random_range(0.1..3.0)).collect();
            let xf: Vec<f64> = x.iter().map(|v| *v as f64).collect();
            let fit = isotonic_fit(&xf, &y, Some(&w)).unwrap();
            for (xi, want) in max_min_reference(&x, &y, &w) {
                assert!((fit.predict(xi) - want).abs() < 1e-9, "x={x:?} y={y:?} w={w:?}");
            }
        }
    }

    /// linfa-linear 0.8.1's PAV, after merging backwards once, compares the
    /// merged mean with the block it just absorbed rather than the new left
    /// neighbour, so it keeps absorbing everything to its left. Here the
    /// drop at x = 6 should pool x = 3..6 to 0.3625 and leave x = 1..2 at
    /// 0.2; linfa pools x = 1..6 to 1.85 / 6. The max-min reference sides
    /// with this module, which is why linfa is compared only on data
    /// without backward merges above.
    #[test]
    fn linfa_over_pools_after_a_backward_merge_and_the_reference_sides_with_pav() {
        let xi: Vec<i64> = (1..=8).collect();
        let x: Vec<f64> = xi.iter().map(|v| *v as f64).collect();
        let y = [0.3, 0.1, 0.4, 0.35, 0.6, 0.1, 0.7, 0.9];
        let fit = isotonic_fit(&x, &y, None).unwrap();
        assert_all_close(&values(&fit)[..2], &[0.2, 0.3625]);
        let reference = max_min_reference(&xi, &y, &[1.0; 8]);
        assert!((reference[1].1 - 0.2).abs() < EPS && (reference[5].1 - 0.3625).abs() < EPS);

        let records = Array2::from_shape_vec((8, 1), x.clone()).unwrap();
        let model = IsotonicRegression::new().fit(&Dataset::new(records, Array1::from(y.to_vec())));
        let at_two = model.unwrap().predict(&Array2::from_shape_vec((1, 1), vec![6.0]).unwrap());
        assert!((at_two[0] - 1.85 / 6.0).abs() < EPS);
    }

    #[test]
    fn pav_agrees_with_linfa_isotonic_regression_weighted() {
        let x: Vec<f64> = (1..=8).map(f64::from).collect();
        let y = [0.0, 0.5, 0.25, 1.0, 0.5, 0.75, 1.5, 1.25];
        let w = [1.0, 2.0, 4.0, 1.0, 3.0, 0.5, 2.0, 1.0];
        assert_matches_linfa(&x, &y, Some(&w));
    }
}
