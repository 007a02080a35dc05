//! The planted schedule: legs that alternate up and down, each made of two pushes in the
//! leg's direction, each push followed by a pause (a counter-move).
//!
//! The first push of a leg *holds*: its aggressive flow stays strong to the end and price
//! continues after the pause. The second *fades*: in its last stretch aggressive flow
//! dies down (and the book thins) while price still creeps to a marginal new extreme,
//! and after the pause price reverses into the next leg. Both pushes have the same drift
//! profile (fast, then slow) and the same kind of pause, so price alone cannot tell a
//! hold from a fade; only the flow in the last stretch can. That is the planted effect.
//!
//! Drifts are in units of the day's noise scale (sigma per sqrt(second)) per second, so
//! pushes look alike on cheap and expensive symbols. The simulation multiplies drift,
//! flow and depth changes by the effective planted strength; at strength 0 the schedule
//! has no effect at all. Main types: `Schedule`, `Segment`, `SegmentKind`, `Cursor`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Push duration range, seconds.
const PUSH_S: (f64, f64) = (30.0, 60.0);
/// Push speed over its main stretch, sigma per second.
const PUSH_SPEED: (f64, f64) = (0.5, 0.8);
/// Share of a push's duration taken by its last, slow stretch.
const LATE_FRAC: f64 = 0.35;
/// Speed of the last stretch as a fraction of the main stretch's: the marginal extreme.
const LATE_SPEED: f64 = 0.3;
/// Pause duration range, seconds.
const PAUSE_S: (f64, f64) = (8.0, 40.0);
/// How much of the push's move a pause retraces.
const PAUSE_RETRACE: (f64, f64) = (0.2, 0.4);
/// Leg flow during a pause, as a multiple of the push direction: mild counter-flow.
const PAUSE_FLOW: f64 = -0.35;
/// Leg flow in the last stretch of a push that will reverse: aggressors fade to a slight
/// lean against the move while price still drifts to a marginal new extreme.
const FADE_FLOW: f64 = -0.5;
/// Book depth (size multiplier, at strength 1) while a push is driven by aggressive
/// flow, and while it fades: thick when participation is strong, thin in exhaustion.
const PUSH_DEPTH: f64 = 1.5;
const FADE_DEPTH: f64 = 0.2;
/// The first push starts up to this many seconds before the open, so the open does not
/// always coincide with a push start.
const FIRST_LEAD_S: f64 = 60.0;

/// Which part of the schedule a segment is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum SegmentKind {
    /// Main stretch of a push: fast drift, strong flow with it.
    Push,
    /// Last stretch of a push that will continue: slow drift, flow still strong.
    Hold,
    /// Last stretch of a push that will reverse: slow drift, flow faded (exhaustion).
    Fade,
    /// Counter-move after a push.
    Pause,
}

/// One stretch with constant drift and flow.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) struct Segment {
    /// Seconds after the open (the first may start before it).
    pub start_s: f64,
    pub end_s: f64,
    pub kind: SegmentKind,
    /// Direction of the push this segment belongs to: +1 up, -1 down.
    pub push_dir: f64,
    /// Signed drift, noise sigmas per second, before strength scaling.
    pub drift_sigma_per_s: f64,
    /// Signed leg flow pressure multiplier, before strength and amplitude scaling.
    pub flow: f64,
    /// Book size multiplier at strength 1 (1 = normal book).
    pub depth: f64,
}

/// The day's segments in time order, covering the whole session.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Schedule {
    pub segments: Vec<Segment>,
}

impl Schedule {
    /// Draws legs until the session (`session_s` seconds) is covered.
    pub fn build(rng: &mut ChaCha8Rng, session_s: f64) -> Self {
        let mut dir = if rng.random::<bool>() { 1.0 } else { -1.0 };
        let mut t = -rng.random_range(0.0..FIRST_LEAD_S);
        let mut segments = Vec::new();
        while t < session_s {
            for fades in [false, true] {
                for seg in draw_push(rng, t, dir, fades) {
                    t = seg.end_s;
                    segments.push(seg);
                }
            }
            dir = -dir;
        }
        Schedule { segments }
    }

    pub fn cursor(&self) -> Cursor<'_> {
        Cursor { schedule: self, index: 0 }
    }
}

/// Draws one push from `start_s` in direction `dir`: main stretch, last stretch, pause.
/// Whether it `fades` sets only the flow and depth of the last stretch, never the price.
fn draw_push(rng: &mut ChaCha8Rng, start_s: f64, dir: f64, fades: bool) -> [Segment; 3] {
    let push_s = rng.random_range(PUSH_S.0..PUSH_S.1);
    let speed = rng.random_range(PUSH_SPEED.0..PUSH_SPEED.1);
    let pause_s = rng.random_range(PAUSE_S.0..PAUSE_S.1);
    let retrace = rng.random_range(PAUSE_RETRACE.0..PAUSE_RETRACE.1);
    let (main_s, late_s) = ((1.0 - LATE_FRAC) * push_s, LATE_FRAC * push_s);
    let moved = speed * (main_s + LATE_SPEED * late_s);

    let seg = |start_s: f64, dur: f64, kind, speed: f64, flow: f64, depth| Segment {
        start_s,
        end_s: start_s + dur,
        kind,
        push_dir: dir,
        drift_sigma_per_s: dir * speed,
        flow: dir * flow,
        depth,
    };
    let main = seg(start_s, main_s, SegmentKind::Push, speed, 1.0, PUSH_DEPTH);
    let late_speed = LATE_SPEED * speed;
    let late = if fades {
        seg(main.end_s, late_s, SegmentKind::Fade, late_speed, FADE_FLOW, FADE_DEPTH)
    } else {
        seg(main.end_s, late_s, SegmentKind::Hold, late_speed, 1.0, PUSH_DEPTH)
    };
    let pause_speed = -retrace * moved / pause_s;
    let pause = seg(late.end_s, pause_s, SegmentKind::Pause, pause_speed, PAUSE_FLOW, 1.0);
    [main, late, pause]
}

/// Walks the schedule forward in time without searching from the start each step.
pub(crate) struct Cursor<'a> {
    schedule: &'a Schedule,
    index: usize,
}

impl Cursor<'_> {
    /// The segment containing `t_s`; calls must come with non-decreasing `t_s`.
    /// Past the last segment (never within a built session) the last one is returned.
    pub fn at(&mut self, t_s: f64) -> &Segment {
        let segs = &self.schedule.segments;
        while self.index + 1 < segs.len() && t_s >= segs[self.index].end_s {
            self.index += 1;
        }
        &segs[self.index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn schedule(seed: u64, session_s: f64) -> Schedule {
        Schedule::build(&mut ChaCha8Rng::seed_from_u64(seed), session_s)
    }

    #[test]
    fn segments_tile_the_session_without_gaps() {
        let s = schedule(7, 3600.0);
        assert!(s.segments[0].start_s <= 0.0);
        assert!(s.segments.last().unwrap().end_s >= 3600.0);
        for pair in s.segments.windows(2) {
            assert_eq!(pair[0].end_s, pair[1].start_s);
        }
    }

    #[test]
    fn pushes_repeat_main_stretch_then_last_stretch_then_pause() {
        for push in schedule(8, 3600.0).segments.chunks(3) {
            assert_eq!(push[0].kind, SegmentKind::Push);
            assert!(matches!(push[1].kind, SegmentKind::Hold | SegmentKind::Fade));
            assert_eq!(push[2].kind, SegmentKind::Pause);
            assert!(push.iter().all(|seg| seg.push_dir == push[0].push_dir));
        }
    }

    #[test]
    fn legs_hold_then_fade_and_direction_flips_only_after_a_fade() {
        let segs = schedule(9, 7200.0).segments;
        let pushes: Vec<&[Segment]> = segs.chunks(3).collect();
        for (i, pair) in pushes.windows(2).enumerate() {
            let faded = pair[0][1].kind == SegmentKind::Fade;
            assert_eq!(faded, i % 2 == 1, "push {i}");
            assert_eq!(pair[1][0].push_dir == -pair[0][0].push_dir, faded);
        }
    }

    #[test]
    fn fade_and_hold_differ_in_flow_but_not_in_price_drift() {
        for push in schedule(10, 7200.0).segments.chunks(3) {
            let [main, late, pause] = push else { panic!("pushes come in threes") };
            let with_dir = |x: f64| x * main.push_dir;
            assert!(
                (with_dir(late.drift_sigma_per_s) - LATE_SPEED * with_dir(main.drift_sigma_per_s))
                    .abs()
                    < 1e-12
            );
            let want_flow = if late.kind == SegmentKind::Fade { FADE_FLOW } else { 1.0 };
            assert_eq!(with_dir(late.flow), want_flow);
            assert_eq!(with_dir(main.flow), 1.0);
            assert!(with_dir(pause.drift_sigma_per_s) < 0.0);
        }
    }

    #[test]
    fn pause_retraces_less_than_the_push_moved() {
        for push in schedule(11, 7200.0).segments.chunks(3) {
            let moved = |s: &Segment| s.drift_sigma_per_s * (s.end_s - s.start_s) * s.push_dir;
            let pushed = moved(&push[0]) + moved(&push[1]);
            let retraced = -moved(&push[2]);
            assert!(retraced >= PAUSE_RETRACE.0 * pushed - 1e-9);
            assert!(retraced <= PAUSE_RETRACE.1 * pushed + 1e-9);
        }
    }

    #[test]
    fn cursor_finds_the_segment_containing_each_time() {
        let s = schedule(12, 600.0);
        let mut cursor = s.cursor();
        for k in 0..6000 {
            let t = k as f64 * 0.1;
            let seg = *cursor.at(t);
            assert!(seg.start_s <= t && t < seg.end_s, "t={t} seg={seg:?}");
        }
    }
}
