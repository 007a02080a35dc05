//! `WindowExtremes`: running maximum and minimum of the last `width` values.
//!
//! Van Herk / Gil-Werman block method (van Herk 1992, "A fast algorithm for local
//! minimum and maximum filters on rectangular and octagonal kernels"; Gil & Werman
//! 1993). The stream is cut into blocks of `width` values. A window of `width`
//! values ending at position `j` of the current block is the tail of the previous
//! block from `j + 1` on, plus the current block up to `j`: so its maximum is
//! `max(suffix_max_prev[j + 1], prefix_max_cur[j])`. Suffix maxima of a block are
//! computed once, when it completes. That is about three comparisons per value,
//! amortised, with no data-dependent branch: on random prices a monotonic deque
//! mispredicts its pop loop about once per value, which cost more than the work.
//!
//! Until `width` values have been seen the window is everything seen so far. The
//! caller guarantees finite input (NaN would make `max`/`min` skip values).

/// Sliding max/min over a fixed number of values, storage allocated at construction.
#[derive(Clone, Debug)]
pub struct WindowExtremes {
    /// Values of the current block so far, at positions `0..pos`.
    block: Box<[f64]>,
    /// Suffix max/min of the previous block; index `width` holds the identity
    /// (-inf / +inf) so that a window ending on a block's last value needs no branch.
    suffix_max: Box<[f64]>,
    suffix_min: Box<[f64]>,
    prefix_max: f64,
    prefix_min: f64,
    /// Position of the next value within its block.
    pos: usize,
}

impl WindowExtremes {
    /// Extremes over the last `width` values (`width >= 1`).
    pub fn new(width: usize) -> Self {
        let width = width.max(1);
        WindowExtremes {
            block: vec![0.0; width].into_boxed_slice(),
            suffix_max: vec![f64::NEG_INFINITY; width + 1].into_boxed_slice(),
            suffix_min: vec![f64::INFINITY; width + 1].into_boxed_slice(),
            prefix_max: f64::NEG_INFINITY,
            prefix_min: f64::INFINITY,
            pos: 0,
        }
    }

    pub fn width(&self) -> usize {
        self.block.len()
    }

    /// Total slots of storage; fixed at construction (`3 * width + 2`).
    pub fn capacity(&self) -> usize {
        self.block.len() + self.suffix_max.len() + self.suffix_min.len()
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.suffix_max.fill(f64::NEG_INFINITY);
        self.suffix_min.fill(f64::INFINITY);
        self.prefix_max = f64::NEG_INFINITY;
        self.prefix_min = f64::INFINITY;
        self.pos = 0;
    }

    /// Adds `x` and returns `(max, min)` of the last `width` values, `x` included.
    pub fn push(&mut self, x: f64) -> (f64, f64) {
        let j = self.pos;
        self.block[j] = x;
        // A new block starts its prefix afresh.
        let fresh = j == 0;
        self.prefix_max = if fresh { x } else { self.prefix_max.max(x) };
        self.prefix_min = if fresh { x } else { self.prefix_min.min(x) };
        let out = (
            self.suffix_max[j + 1].max(self.prefix_max),
            self.suffix_min[j + 1].min(self.prefix_min),
        );
        self.pos = j + 1;
        if self.pos == self.block.len() {
            self.close_block();
        }
        out
    }

    /// Turns the completed block into suffix extremes for the next one.
    fn close_block(&mut self) {
        let w = self.block.len();
        let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
        for i in (0..w).rev() {
            hi = hi.max(self.block[i]);
            lo = lo.min(self.block[i]);
            self.suffix_max[i] = hi;
            self.suffix_min[i] = lo;
        }
        self.pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extremes of the last `w` values by brute force.
    fn brute(xs: &[f64], w: usize) -> Vec<(f64, f64)> {
        (0..xs.len())
            .map(|t| {
                let win = &xs[t.saturating_sub(w - 1)..=t];
                let hi = win.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lo = win.iter().copied().fold(f64::INFINITY, f64::min);
                (hi, lo)
            })
            .collect()
    }

    #[test]
    fn matches_brute_force_for_many_widths_including_partial_windows() {
        let mut s: u64 = 99;
        let xs: Vec<f64> = (0..500)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) % 9) as f64 - 4.0
            })
            .collect();
        for w in [1, 2, 3, 4, 7, 13, 64] {
            let mut we = WindowExtremes::new(w);
            let got: Vec<_> = xs.iter().map(|&x| we.push(x)).collect();
            assert_eq!(got, brute(&xs, w), "width {w}");
        }
    }

    #[test]
    fn hand_worked_width_three() {
        let mut we = WindowExtremes::new(3);
        let got: Vec<_> = [5.0, 1.0, 3.0, 2.0, 8.0].iter().map(|&x| we.push(x)).collect();
        assert_eq!(got, vec![(5.0, 5.0), (5.0, 1.0), (5.0, 1.0), (3.0, 1.0), (8.0, 2.0)]);
    }

    #[test]
    fn clear_forgets_previous_values_and_capacity_stays() {
        let mut we = WindowExtremes::new(4);
        let cap = we.capacity();
        for x in [9.0, 9.0, 9.0, 9.0, 9.0] {
            we.push(x);
        }
        we.clear();
        assert_eq!(we.push(1.0), (1.0, 1.0));
        assert_eq!((we.capacity(), cap, we.width()), (14, 14, 4));
    }
}
