//! A minimal SVG writer for the report's own charts: shapes, text, linear
//! scales and the accuracy colour ramp.
//!
//! Coordinates are printed with one decimal and text is escaped, so a chart
//! is the same bytes for the same inputs. [`Svg`] collects elements;
//! [`Linear`] maps data to pixels; [`accuracy_colour`] is the diverging
//! ramp shared by the heat maps and their legend.

use super::html::escape;
use std::fmt::Write as _;

/// A coordinate or length with one decimal and no negative zero.
pub fn px(x: f64) -> String {
    super::html::fmt_fixed(x, 1)
}

/// One SVG document under construction.
pub struct Svg {
    buf: String,
}

/// Horizontal text anchor.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Fill and outline of a shape; `None` fill means no fill.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Paint<'a> {
    pub fill: Option<&'a str>,
    pub stroke: Option<(&'a str, f64)>,
}

impl<'a> Paint<'a> {
    pub fn fill(colour: &'a str) -> Self {
        Paint { fill: Some(colour), stroke: None }
    }

    pub fn stroke(colour: &'a str, width: f64) -> Self {
        Paint { fill: None, stroke: Some((colour, width)) }
    }

    fn attrs(self) -> String {
        let fill = self.fill.unwrap_or("none");
        match self.stroke {
            Some((colour, width)) => {
                format!("fill=\"{fill}\" stroke=\"{colour}\" stroke-width=\"{}\"", px(width))
            }
            None => format!("fill=\"{fill}\""),
        }
    }
}

impl Svg {
    /// A `width` x `height` document; `label` is read by screen readers.
    pub fn new(width: f64, height: f64, label: &str) -> Svg {
        let (w, h) = (px(width), px(height));
        let buf = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" \
             font-family=\"system-ui, sans-serif\">\n",
            escape(label)
        );
        Svg { buf }
    }

    /// A rectangle with an optional hover text.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, paint: Paint, title: Option<&str>) {
        let _ = write!(
            self.buf,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {}",
            px(x),
            px(y),
            px(w),
            px(h),
            paint.attrs()
        );
        self.close("rect", title);
    }

    /// A straight line; `dash` is an SVG dash array such as `4 3`.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), colour: &str, dash: Option<&str>) {
        let dash = dash.map_or(String::new(), |d| format!(" stroke-dasharray=\"{d}\""));
        let _ = writeln!(
            self.buf,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{colour}\"{dash}/>",
            px(from.0),
            px(from.1),
            px(to.0),
            px(to.1)
        );
    }

    /// A circle with an optional hover text.
    pub fn circle(&mut self, centre: (f64, f64), r: f64, paint: Paint, title: Option<&str>) {
        let _ = write!(
            self.buf,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {}",
            px(centre.0),
            px(centre.1),
            px(r),
            paint.attrs()
        );
        self.close("circle", title);
    }

    /// A closed polygon through `points`, with an optional hover text.
    pub fn polygon(&mut self, points: &[(f64, f64)], paint: Paint, title: Option<&str>) {
        let _ = write!(self.buf, "<polygon points=\"{}\" {}", point_list(points), paint.attrs());
        self.close("polygon", title);
    }

    /// An open path from ready `d` commands (see [`path_through`]).
    pub fn path(&mut self, d: &str, colour: &str, width: f64) {
        let _ = writeln!(
            self.buf,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{}\" \
             stroke-linejoin=\"round\"/>",
            px(width)
        );
    }

    /// Escaped text at (x, y) (the baseline).
    pub fn text(&mut self, at: (f64, f64), size: f64, anchor: Anchor, colour: &str, text: &str) {
        let _ = writeln!(
            self.buf,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" \
             fill=\"{colour}\">{}</text>",
            px(at.0),
            px(at.1),
            px(size),
            anchor.as_str(),
            escape(text)
        );
    }

    /// Text turned a quarter anticlockwise about its anchor point.
    pub fn text_up(&mut self, at: (f64, f64), size: f64, colour: &str, text: &str) {
        let (x, y) = (px(at.0), px(at.1));
        let _ = writeln!(
            self.buf,
            "<text x=\"{x}\" y=\"{y}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{colour}\" \
             transform=\"rotate(-90 {x} {y})\">{}</text>",
            px(size),
            escape(text)
        );
    }

    /// The finished `<svg>` element.
    pub fn finish(mut self) -> String {
        self.buf.push_str("</svg>\n");
        self.buf
    }

    /// Ends the element opened last: self-closing, or with a hover title.
    fn close(&mut self, tag: &str, title: Option<&str>) {
        match title {
            Some(t) => {
                let _ = writeln!(self.buf, "><title>{}</title></{tag}>", escape(t));
            }
            None => self.buf.push_str("/>\n"),
        }
    }
}

fn point_list(points: &[(f64, f64)]) -> String {
    let pairs: Vec<String> = points.iter().map(|(x, y)| format!("{},{}", px(*x), px(*y))).collect();
    pairs.join(" ")
}

/// Path commands through `points`, starting a new stroke after any point
/// with a non-finite coordinate (a NaN price leaves a gap, not a dive).
pub fn path_through(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for &(x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            pen_down = false;
            continue;
        }
        let cmd = if pen_down { 'L' } else { 'M' };
        if !d.is_empty() {
            d.push(' ');
        }
        let _ = write!(d, "{cmd}{},{}", px(x), px(y));
        pen_down = true;
    }
    d
}

/// Maps a data interval onto a pixel interval.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Linear {
    d0: f64,
    d1: f64,
    p0: f64,
    p1: f64,
}

impl Linear {
    /// A constant domain (d0 == d1) maps everything to the middle of the
    /// pixel interval, so a flat price still draws a line.
    pub fn new(domain: (f64, f64), pixels: (f64, f64)) -> Linear {
        Linear { d0: domain.0, d1: domain.1, p0: pixels.0, p1: pixels.1 }
    }

    pub fn map(&self, x: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span == 0.0 || !span.is_finite() {
            return 0.5 * (self.p0 + self.p1);
        }
        self.p0 + (x - self.d0) / span * (self.p1 - self.p0)
    }
}

/// Accuracy that gets the full red end of the ramp (and anything below).
pub const RAMP_LOW: f64 = 0.35;
/// Accuracy that gets the full blue end of the ramp (and anything above).
pub const RAMP_HIGH: f64 = 0.65;

/// Colour of an accuracy: red below 0.5, near-white at 0.5, blue above,
/// saturating at [`RAMP_LOW`] and [`RAMP_HIGH`]. Linear in RGB between
/// the three anchors; NaN is grey.
pub fn accuracy_colour(acc: f64) -> String {
    const RED: [f64; 3] = [178.0, 24.0, 43.0];
    const MID: [f64; 3] = [247.0, 247.0, 247.0];
    const BLUE: [f64; 3] = [33.0, 102.0, 172.0];
    if acc.is_nan() {
        return "#c8c8c8".to_string();
    }
    let t = ((acc - 0.5) / (RAMP_HIGH - 0.5)).clamp(-1.0, 1.0);
    let (end, w) = if t < 0.0 { (RED, -t) } else { (BLUE, t) };
    let channel = |i: usize| (MID[i] + (end[i] - MID[i]) * w).round() as u8;
    format!("#{:02x}{:02x}{:02x}", channel(0), channel(1), channel(2))
}

/// Whether text on [`accuracy_colour`] should be white to stay readable.
pub fn needs_light_text(acc: f64) -> bool {
    acc.is_finite() && ((acc - 0.5) / (RAMP_HIGH - 0.5)).abs() > 0.6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_inside_svg() {
        let mut svg = Svg::new(10.0, 10.0, "a<b");
        svg.text((1.0, 2.0), 9.0, Anchor::Start, "#000", "x & <y>");
        let out = svg.finish();
        assert!(out.contains("aria-label=\"a&lt;b\""));
        assert!(out.contains(">x &amp; &lt;y&gt;</text>"));
    }

    #[test]
    fn shapes_with_titles_close_their_own_tag() {
        let mut svg = Svg::new(10.0, 10.0, "t");
        svg.rect(0.0, 0.0, 1.0, 1.0, Paint::fill("#fff"), Some("n=3 <x>"));
        svg.circle((1.0, 1.0), 2.0, Paint::stroke("#000", 1.0), None);
        let out = svg.finish();
        assert!(out.contains("fill=\"#fff\"><title>n=3 &lt;x&gt;</title></rect>"));
        assert!(out.contains("r=\"2.0\" fill=\"none\" stroke=\"#000\" stroke-width=\"1.0\"/>"));
    }

    #[test]
    fn path_breaks_at_nan_points() {
        let d = path_through(&[(0.0, 1.0), (1.0, 2.0), (2.0, f64::NAN), (3.0, 4.0), (4.0, 5.0)]);
        assert_eq!(d, "M0.0,1.0 L1.0,2.0 M3.0,4.0 L4.0,5.0");
        assert_eq!(path_through(&[]), "");
    }

    #[test]
    fn linear_scale_maps_ends_and_centres_a_constant_domain() {
        let s = Linear::new((10.0, 20.0), (100.0, 0.0));
        assert_eq!(s.map(10.0), 100.0);
        assert_eq!(s.map(15.0), 50.0);
        assert_eq!(Linear::new((3.0, 3.0), (0.0, 40.0)).map(3.0), 20.0);
    }

    #[test]
    fn colour_ramp_has_fixed_anchors_and_grey_for_nan() {
        assert_eq!(accuracy_colour(0.5), "#f7f7f7");
        assert_eq!(accuracy_colour(0.65), "#2166ac");
        assert_eq!(accuracy_colour(0.9), "#2166ac");
        assert_eq!(accuracy_colour(0.35), "#b2182b");
        assert_eq!(accuracy_colour(0.0), "#b2182b");
        assert_eq!(accuracy_colour(f64::NAN), "#c8c8c8");
        // A fifth of the way to blue: 247 - 214 * 0.2 = 204.2, 247 - 145 * 0.2 = 218,
        // 247 - 75 * 0.2 = 232.
        assert_eq!(accuracy_colour(0.53), "#ccdae8");
    }

    #[test]
    fn strong_colours_get_light_text() {
        assert!(needs_light_text(0.62));
        assert!(!needs_light_text(0.55));
        assert!(!needs_light_text(f64::NAN));
    }
}
