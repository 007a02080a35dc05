//! Rolling z-score of one bar series against its own recent past.
//!
//! [`RollingZ`] optionally smooths each bar value with an exponential moving
//! average (`alpha = 2 / (span + 1)`), keeps the last `window` smoothed
//! values in a fixed ring buffer, and scores each new smoothed value against
//! the mean and sample standard deviation of the values *before* it:
//!
//! ```text
//! s_t = alpha * x_t + (1 - alpha) * s_{t-1}          (s_t = x_t without smoothing)
//! z_t = clip((s_t - mean(s_{t-W..t-1})) / max(std(s_{t-W..t-1}), std_floor), ±z_clip)
//! ```
//!
//! Smoothing comes first so that the score is in units of the smoothed
//! series' own spread: thresholds such as `z_hi = 1.6` then mean the same
//! whatever the span. (Smoothing the score instead would shrink its spread
//! by the factor sqrt(alpha / (2 - alpha)), 0.45 at span 5, and leave such
//! thresholds almost never reached.) The baseline excludes the current bar
//! so that an outlier cannot shrink its own score.
//!
//! Edge cases:
//! - warm-up: NaN until the buffer holds `min_periods` values (at least 2,
//!   so the sample standard deviation is defined);
//! - constant baseline: the standard deviation is 0 and `std_floor` takes
//!   over; a value equal to the mean scores exactly 0, any other value
//!   scores a large number that the clip bounds;
//! - non-finite input: the update returns NaN and leaves every piece of
//!   state untouched, as if the value had never been seen.
//!
//! Cost is O(1) per update. The mean and the sum of squared deviations are
//! maintained with Welford's add/replace recurrences (Welford 1962,
//! "Note on a method for calculating corrected sums of squares and
//! products", Technometrics 4(3)), which avoid the cancellation of the naive
//! sum / sum-of-squares method when the mean is large against the spread
//! (a CVD level, for example). Rounding still accumulates over millions of
//! replacements, so every `window` pushes both moments are recomputed
//! exactly from the buffer in two passes: amortised O(1), and the error can
//! never grow beyond what one window's worth of updates introduces.

/// The settings of one rolling z-score. Checked by `FeatureParams::validate`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ZScoreSpec {
    /// Bars in the trailing baseline, at least 2.
    pub window: usize,
    /// Baseline values needed before a score is produced, in `2..=window`.
    pub min_periods: usize,
    /// Lower bound on the standard deviation, > 0, in the input's units.
    pub std_floor: f64,
    /// Scores are clipped to `[-z_clip, z_clip]`, > 0.
    pub z_clip: f64,
    /// EMA span applied to the input before scoring; `None` or `Some(1)`
    /// means no smoothing.
    pub ema_span: Option<usize>,
}

/// A streaming z-score over a fixed trailing window of bar values.
#[derive(Clone, Debug)]
pub struct RollingZ {
    spec: ZScoreSpec,
    /// EMA weight of the newest score, `None` without smoothing.
    alpha: Option<f64>,
    buf: Box<[f64]>,
    /// Slot the next value goes to (the oldest value once the buffer is full).
    head: usize,
    len: usize,
    mean: f64,
    /// Sum of squared deviations from `mean` over the buffer.
    m2: f64,
    pushes_since_refresh: usize,
    ema: Option<f64>,
}

impl RollingZ {
    /// Allocates the ring buffer; nothing is allocated after this.
    pub fn new(spec: ZScoreSpec) -> Self {
        let window = spec.window.max(2);
        let alpha = spec.ema_span.filter(|&span| span > 1).map(|span| 2.0 / (span as f64 + 1.0));
        RollingZ {
            spec: ZScoreSpec { window, ..spec },
            alpha,
            buf: vec![0.0; window].into_boxed_slice(),
            head: 0,
            len: 0,
            mean: 0.0,
            m2: 0.0,
            pushes_since_refresh: 0,
            ema: None,
        }
    }

    /// Smooths `x`, scores it against the values before it, then adds it to
    /// the window.
    ///
    /// Returns NaN during warm-up and for a non-finite `x` (which is dropped).
    pub fn update(&mut self, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        let smoothed = self.smooth(x);
        let score = self.raw_score(smoothed);
        self.push(smoothed);
        score
    }

    /// Mean and sample standard deviation of the current window, once it
    /// holds at least two values.
    pub fn baseline(&self) -> Option<(f64, f64)> {
        (self.len >= 2).then(|| (self.mean, self.sample_std()))
    }

    /// Forgets every value; keeps the buffer.
    pub fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
        self.mean = 0.0;
        self.m2 = 0.0;
        self.pushes_since_refresh = 0;
        self.ema = None;
    }

    fn raw_score(&self, x: f64) -> f64 {
        if self.len < self.spec.min_periods {
            return f64::NAN;
        }
        let std = self.sample_std().max(self.spec.std_floor);
        let clip = self.spec.z_clip;
        ((x - self.mean) / std).clamp(-clip, clip)
    }

    fn sample_std(&self) -> f64 {
        (self.m2 / (self.len - 1) as f64).sqrt()
    }

    /// The EMA of the inputs so far; seeded by the first input.
    fn smooth(&mut self, x: f64) -> f64 {
        let Some(alpha) = self.alpha else { return x };
        let next = match self.ema {
            None => x,
            Some(prev) => alpha * x + (1.0 - alpha) * prev,
        };
        self.ema = Some(next);
        next
    }

    fn push(&mut self, x: f64) {
        if self.len == self.buf.len() {
            self.replace_oldest(x);
        } else {
            self.append(x);
        }
        self.head += 1;
        if self.head == self.buf.len() {
            self.head = 0;
        }
        self.pushes_since_refresh += 1;
        if self.pushes_since_refresh >= self.buf.len() {
            self.refresh();
        }
    }

    /// Welford's addition step.
    fn append(&mut self, x: f64) {
        self.buf[self.head] = x;
        self.len += 1;
        let delta = x - self.mean;
        self.mean += delta / self.len as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Welford's replacement step for a full window: `x` in, oldest out.
    fn replace_oldest(&mut self, x: f64) {
        let old = std::mem::replace(&mut self.buf[self.head], x);
        let prev_mean = self.mean;
        self.mean += (x - old) / self.len as f64;
        self.m2 += (x - old) * (x - self.mean + old - prev_mean);
        // Rounding can push a near-zero sum of squares slightly negative.
        self.m2 = self.m2.max(0.0);
    }

    /// Exact two-pass recomputation of both moments, to cancel drift.
    fn refresh(&mut self) {
        let values = &self.buf[..self.len];
        let mean = values.iter().sum::<f64>() / self.len as f64;
        self.m2 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        self.mean = mean;
        self.pushes_since_refresh = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(window: usize) -> ZScoreSpec {
        ZScoreSpec { window, min_periods: window, std_floor: 1e-9, z_clip: 5.0, ema_span: None }
    }

    fn feed(z: &mut RollingZ, xs: &[f64]) -> Vec<f64> {
        xs.iter().map(|&x| z.update(x)).collect()
    }

    #[test]
    fn scores_are_nan_until_min_periods_values_are_held() {
        let mut z = RollingZ::new(spec(3));
        let out = feed(&mut z, &[1.0, 2.0, 3.0, 4.0]);
        assert!(out[..3].iter().all(|v| v.is_nan()));
        assert_eq!(out[3], 2.0);
    }

    #[test]
    fn hand_worked_scores_match_sample_std_baseline() {
        let mut z = RollingZ::new(spec(3));
        let out = feed(&mut z, &[1.0, 2.0, 3.0, 4.0, 4.5, 5.0]);
        // Baseline [2, 3, 4]: mean 3, sample std 1.
        assert_eq!(out[4], 1.5);
        // Baseline [3, 4, 4.5]: mean 23/6, squared deviations sum 7/6, var 7/12.
        let expected = (5.0 - 23.0 / 6.0) / (7.0f64 / 12.0).sqrt();
        assert!((out[5] - expected).abs() < 1e-12, "{} vs {}", out[5], expected);
    }

    #[test]
    fn current_value_is_excluded_from_its_own_baseline() {
        let mut z = RollingZ::new(spec(3));
        let out = feed(&mut z, &[1.0, 2.0, 3.0, 4.0]);
        // Including 4 in the baseline would give (4 - 2.5) / 1.29 = 1.16.
        assert_eq!(out[3], 2.0);
        assert_eq!(z.baseline(), Some((3.0, 1.0)));
    }

    #[test]
    fn min_periods_below_window_scores_early() {
        let mut z = RollingZ::new(ZScoreSpec { min_periods: 2, ..spec(4) });
        let out = feed(&mut z, &[1.0, 2.0, 3.0]);
        assert!(out[0].is_nan() && out[1].is_nan());
        let expected = 1.5 / 0.5f64.sqrt();
        assert!((out[2] - expected).abs() < 1e-12);
    }

    #[test]
    fn constant_baseline_uses_floor_and_scores_mean_as_zero() {
        let mut z = RollingZ::new(ZScoreSpec { std_floor: 0.5, z_clip: 100.0, ..spec(3) });
        let out = feed(&mut z, &[5.0, 5.0, 5.0, 5.0, 6.0]);
        assert_eq!(out[3], 0.0);
        // Baseline [5, 5, 5]: std 0, floored to 0.5.
        assert_eq!(out[4], 2.0);
    }

    #[test]
    fn constant_baseline_with_tiny_floor_clips_any_change() {
        let mut z = RollingZ::new(spec(3));
        let out = feed(&mut z, &[5.0, 5.0, 5.0, 4.0]);
        assert_eq!(out[3], -5.0);
    }

    #[test]
    fn scores_are_clipped_to_z_clip() {
        let clipped = ZScoreSpec { z_clip: 3.0, ..spec(3) };
        assert_eq!(feed(&mut RollingZ::new(clipped), &[1.0, 2.0, 3.0, 100.0])[3], 3.0);
        assert_eq!(feed(&mut RollingZ::new(clipped), &[1.0, 2.0, 3.0, -100.0])[3], -3.0);
        // Inside the clip the score is untouched: (4.5 - 2) / 1.
        assert_eq!(feed(&mut RollingZ::new(clipped), &[1.0, 2.0, 3.0, 4.5])[3], 2.5);
    }

    #[test]
    fn non_finite_input_returns_nan_and_changes_nothing() {
        let mut with_gaps = RollingZ::new(ZScoreSpec { ema_span: Some(3), ..spec(3) });
        let mut clean = with_gaps.clone();
        let a = feed(&mut with_gaps, &[1.0, f64::NAN, 2.0, 3.0, f64::INFINITY, 4.0, 2.0]);
        let b = feed(&mut clean, &[1.0, 2.0, 3.0, 4.0, 2.0]);
        assert!(a[1].is_nan() && a[4].is_nan());
        let kept: Vec<u64> = [a[0], a[2], a[3], a[5], a[6]].iter().map(|v| v.to_bits()).collect();
        let expected: Vec<u64> = b.iter().map(|v| v.to_bits()).collect();
        assert_eq!(kept, expected);
    }

    #[test]
    fn ema_smooths_the_input_before_it_is_scored() {
        // Span 3 gives alpha 0.5: inputs 1, 2, 3, 4, 100 smooth to
        // 1, 1.5, 2.25, 3.125, 51.5625, and those are what get scored.
        let mut z = RollingZ::new(ZScoreSpec { ema_span: Some(3), ..spec(3) });
        let out = feed(&mut z, &[1.0, 2.0, 3.0, 4.0, 100.0]);
        assert!(out[2].is_nan());
        let base = [1.0, 1.5, 2.25];
        let mean = base.iter().sum::<f64>() / 3.0;
        let var = base.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 2.0;
        assert!((out[3] - (3.125 - mean) / var.sqrt()).abs() < 1e-12, "{}", out[3]);
        assert_eq!(out[4], 5.0, "51.56 against 1.5, 2.25, 3.125 clips to 5");
    }

    #[test]
    fn span_of_one_means_no_smoothing() {
        let mut smoothed = RollingZ::new(ZScoreSpec { ema_span: Some(1), ..spec(3) });
        let mut raw = RollingZ::new(spec(3));
        let xs = [1.0, 4.0, 2.0, 8.0, 5.0, 7.0];
        assert_eq!(feed(&mut smoothed, &xs)[3..], feed(&mut raw, &xs)[3..]);
    }

    #[test]
    fn window_slides_and_forgets_old_values() {
        let mut z = RollingZ::new(spec(2));
        feed(&mut z, &[100.0, -100.0, 1.0, 3.0]);
        assert_eq!(z.baseline(), Some((2.0, 2.0f64.sqrt())));
    }

    #[test]
    fn long_runs_with_large_offset_keep_moments_accurate() {
        let mut z = RollingZ::new(spec(50));
        let mut state = 7u64;
        let mut last = Vec::new();
        for _ in 0..200_003 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let x = 1e9 + (state >> 40) as f64 / (1u64 << 24) as f64;
            z.update(x);
            last.push(x);
        }
        let tail = &last[last.len() - 50..];
        let mean = tail.iter().sum::<f64>() / 50.0;
        let var = tail.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 49.0;
        let (m, s) = z.baseline().unwrap();
        assert!((m - mean).abs() < 1e-6);
        assert!((s - var.sqrt()).abs() / var.sqrt() < 1e-6, "{s} vs {}", var.sqrt());
    }

    #[test]
    fn reset_returns_to_the_fresh_state() {
        let mut z = RollingZ::new(ZScoreSpec { ema_span: Some(5), ..spec(3) });
        let xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0];
        let first = feed(&mut z, &xs);
        z.reset();
        let second = feed(&mut z, &xs);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&first), bits(&second));
    }
}
