//! Section 3: accuracy heat maps over each pair of gridded parameters.
//!
//! [`aggregate`] turns summary cells into one [`HeatMap`]: the rolled-up
//! (global) bucket at one horizon and period, with the parameters not on
//! the map pooled. Pooling adds hits and labelled events over every grid
//! point that shares the map cell's two values and reports
//! `accuracy = sum(hits) / sum(labelled)`, `n = sum(labelled)`: the mean
//! accuracy of those points weighted by their labelled events. The same
//! event counts once per point that found it, so `n` measures effort,
//! not independent evidence. Training cells come from the last fold only
//! (the one whose choice is deployed; earlier folds' training periods are
//! contained in it), test cells are pooled over all folds (their periods
//! do not overlap). [`draw`] renders one map as SVG and [`section`] lays
//! out every pair x horizon, training beside test.

use super::html::{self, escape, fmt_fixed, fmt_param};
use super::inputs::{GridCell, GridInputs, Period};
use super::svg::{self, Anchor, Paint, Svg};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// A gridded parameter and its values on the map, ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<f64>,
}

/// The pooled counts of one map cell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeatCell {
    pub hits: u64,
    pub labelled: u64,
    /// Distinct grid points pooled; 0 when no point has these values
    /// (a constraint such as `z_mid < z_hi` removed them).
    pub points: usize,
}

impl HeatCell {
    /// hits / labelled, NaN with no labelled event.
    pub fn accuracy(&self) -> f64 {
        if self.labelled == 0 {
            f64::NAN
        } else {
            self.hits as f64 / self.labelled as f64
        }
    }
}

/// One heat map, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatMap {
    pub x: Axis,
    /// None for a grid with a single gridded parameter (a one-row strip).
    pub y: Option<Axis>,
    /// Row-major from the smallest y value: `cells[iy * x.values.len() + ix]`.
    pub cells: Vec<HeatCell>,
    /// (ix, iy) of the chosen point, when its values are on both axes.
    pub chosen: Option<(usize, usize)>,
}

impl HeatMap {
    fn rows(&self) -> usize {
        self.y.as_ref().map_or(1, |a| a.values.len())
    }
}

/// The parameter pairs to map: every pair in config order, or the lone
/// parameter on its own, or nothing for an ungridded run.
pub fn pairs(parameters: &[String]) -> Vec<(String, Option<String>)> {
    if parameters.len() == 1 {
        return vec![(parameters[0].clone(), None)];
    }
    let mut out = Vec::new();
    for (i, x) in parameters.iter().enumerate() {
        for y in &parameters[i + 1..] {
            out.push((x.clone(), Some(y.clone())));
        }
    }
    out
}

/// Horizons that have rolled-up cells, ascending.
pub fn horizons(grid: &GridInputs) -> Vec<usize> {
    let set: BTreeSet<usize> =
        grid.cells.iter().filter(|c| c.bucket.is_global()).map(|c| c.horizon).collect();
    set.into_iter().collect()
}

/// Pools the global bucket's cells at `horizon` and `period` onto the
/// (`x`, `y`) plane; see the module doc for the pooling rule.
pub fn aggregate(
    grid: &GridInputs,
    period: Period,
    horizon: usize,
    (x, y): (&str, Option<&str>),
    chosen: &BTreeMap<String, f64>,
) -> HeatMap {
    let global: Vec<&GridCell> = grid.cells.iter().filter(|c| c.bucket.is_global()).collect();
    let x_axis = axis(&global, x);
    let y_axis = y.map(|name| axis(&global, name));
    let last_train_fold =
        global.iter().filter(|c| c.period == Period::Train).map(|c| c.fold).max().unwrap_or(0);
    let wanted = |c: &&&GridCell| {
        c.horizon == horizon
            && c.period == period
            && (period == Period::Test || c.fold == last_train_fold)
    };

    // Pool hits and labelled per map cell, remembering which points fed it.
    let rows = y_axis.as_ref().map_or(1, |a| a.values.len());
    let mut cells = vec![HeatCell::default(); x_axis.values.len() * rows];
    let mut points = vec![BTreeSet::new(); cells.len()];
    for cell in global.iter().filter(wanted) {
        let Some(index) = locate(cell, &x_axis, y_axis.as_ref()) else { continue };
        cells[index].hits += cell.hits;
        cells[index].labelled += cell.labelled;
        points[index].insert(cell.point);
    }
    for (cell, set) in cells.iter_mut().zip(&points) {
        cell.points = set.len();
    }

    let chosen = chosen_index(chosen, &x_axis, y_axis.as_ref());
    HeatMap { x: x_axis, y: y_axis, cells, chosen }
}

/// The distinct finite values of `name` over `cells`, ascending.
fn axis(cells: &[&GridCell], name: &str) -> Axis {
    let mut values: Vec<f64> = cells
        .iter()
        .filter_map(|c| c.params.get(name))
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    Axis { name: name.to_string(), values }
}

/// The map index of a cell's values; None when a value is missing or NaN.
fn locate(cell: &GridCell, x: &Axis, y: Option<&Axis>) -> Option<usize> {
    let position = |axis: &Axis| {
        let v = *cell.params.get(&axis.name)?;
        axis.values.binary_search_by(|a| a.total_cmp(&v)).ok()
    };
    let ix = position(x)?;
    let iy = match y {
        Some(axis) => position(axis)?,
        None => 0,
    };
    Some(iy * x.values.len() + ix)
}

/// Where the chosen parameters sit. Values read from YAML and from CSV
/// may differ in the last bits, so they match within 1e-9 (relative).
fn chosen_index(
    chosen: &BTreeMap<String, f64>,
    x: &Axis,
    y: Option<&Axis>,
) -> Option<(usize, usize)> {
    let find = |axis: &Axis| {
        let v = *chosen.get(&axis.name)?;
        axis.values.iter().position(|a| (a - v).abs() <= 1e-9 * a.abs().max(1.0))
    };
    let ix = find(x)?;
    let iy = match y {
        Some(axis) => find(axis)?,
        None => 0,
    };
    Some((ix, iy))
}

// Layout of one map, in pixels.
const CELL_W: f64 = 58.0;
const CELL_H: f64 = 34.0;
const LEFT: f64 = 70.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 44.0;
const RIGHT: f64 = 8.0;
/// Past this many values on an axis the cell text would not fit; the
/// figures stay in each cell's hover text.
const MAX_LABELLED_VALUES: usize = 24;

/// One map as an SVG element.
pub fn draw(map: &HeatMap, label: &str) -> String {
    let (nx, ny) = (map.x.values.len(), map.rows());
    let width = LEFT + CELL_W * nx as f64 + RIGHT;
    let height = TOP + CELL_H * ny as f64 + BOTTOM;
    let mut svg = Svg::new(width, height, label);
    let with_text = nx <= MAX_LABELLED_VALUES && ny <= MAX_LABELLED_VALUES;
    for iy in 0..ny {
        for ix in 0..nx {
            draw_cell(&mut svg, map, (ix, iy), with_text);
        }
    }
    if let Some((ix, iy)) = map.chosen {
        let (x, y) = cell_origin(ix, iy, ny);
        svg.rect(x + 1.5, y + 1.5, CELL_W - 3.0, CELL_H - 3.0, Paint::stroke("#000", 3.0), None);
    }
    draw_axes(&mut svg, map, ny);
    svg.finish()
}

/// Top-left corner of a cell; row 0 (smallest y) is at the bottom.
fn cell_origin(ix: usize, iy: usize, ny: usize) -> (f64, f64) {
    (LEFT + CELL_W * ix as f64, TOP + CELL_H * (ny - 1 - iy) as f64)
}

/// One cell: coloured by pooled accuracy with its figures, grey with
/// `n=0` when nothing was labelled, outlined white when no point exists.
fn draw_cell(svg: &mut Svg, map: &HeatMap, (ix, iy): (usize, usize), with_text: bool) {
    let cell = &map.cells[iy * map.x.values.len() + ix];
    let (x, y) = cell_origin(ix, iy, map.rows());
    let acc = cell.accuracy();
    let (fill, edge, ink, lines) = match (cell.points, cell.labelled) {
        (0, _) => {
            ("#ffffff".to_string(), "#dddddd", "#999", ["no point".to_string(), String::new()])
        }
        (_, 0) => (svg::accuracy_colour(f64::NAN), "#ffffff", "#111", ["—".into(), "n=0".into()]),
        _ => {
            let ink = if svg::needs_light_text(acc) { "#fff" } else { "#111" };
            let lines = [fmt_fixed(acc, 3), format!("n={}", cell.labelled)];
            (svg::accuracy_colour(acc), "#ffffff", ink, lines)
        }
    };
    let paint = Paint { fill: Some(&fill), stroke: Some((edge, 1.0)) };
    svg.rect(x, y, CELL_W, CELL_H, paint, Some(&cell_title(map, (ix, iy), cell)));
    if !with_text {
        return;
    }
    svg.text((x + CELL_W / 2.0, y + 15.0), 11.0, Anchor::Middle, ink, &lines[0]);
    if !lines[1].is_empty() {
        svg.text((x + CELL_W / 2.0, y + 28.0), 9.0, Anchor::Middle, ink, &lines[1]);
    }
}

fn cell_title(map: &HeatMap, (ix, iy): (usize, usize), cell: &HeatCell) -> String {
    let mut at = format!("{}={}", map.x.name, fmt_param(map.x.values[ix]));
    if let Some(axis) = &map.y {
        let _ = write!(at, ", {}={}", axis.name, fmt_param(axis.values[iy]));
    }
    if cell.points == 0 {
        return format!("{at}: no grid point (removed by a constraint)");
    }
    format!(
        "{at}: accuracy {} = {} hits / {} labelled, {} point(s) pooled",
        fmt_fixed(cell.accuracy(), 3),
        cell.hits,
        cell.labelled,
        cell.points
    )
}

fn draw_axes(svg: &mut Svg, map: &HeatMap, ny: usize) {
    let base = TOP + CELL_H * ny as f64;
    for (ix, v) in map.x.values.iter().enumerate() {
        let cx = LEFT + CELL_W * (ix as f64 + 0.5);
        svg.text((cx, base + 14.0), 10.0, Anchor::Middle, "#333", &fmt_param(*v));
    }
    let mid_x = LEFT + CELL_W * map.x.values.len() as f64 / 2.0;
    svg.text((mid_x, base + 34.0), 12.0, Anchor::Middle, "#111", &map.x.name);
    let Some(axis) = &map.y else { return };
    for (iy, v) in axis.values.iter().enumerate() {
        let cy = cell_origin(0, iy, ny).1 + CELL_H / 2.0 + 4.0;
        svg.text((LEFT - 6.0, cy), 10.0, Anchor::End, "#333", &fmt_param(*v));
    }
    svg.text_up((16.0, TOP + CELL_H * ny as f64 / 2.0), 12.0, "#111", &axis.name);
}

/// The colour key shared by every map.
fn legend() -> String {
    let steps = 13;
    let mut svg = Svg::new(560.0, 40.0, "colour key: accuracy from 0.35 (red) to 0.65 (blue)");
    for i in 0..steps {
        let acc = svg::RAMP_LOW + (svg::RAMP_HIGH - svg::RAMP_LOW) * i as f64 / (steps - 1) as f64;
        svg.rect(
            8.0 + 20.0 * i as f64,
            4.0,
            20.0,
            16.0,
            Paint::fill(&svg::accuracy_colour(acc)),
            None,
        );
    }
    for (i, text) in [(0, "≤ 0.35"), (6, "0.50"), (12, "≥ 0.65")] {
        svg.text((18.0 + 20.0 * i as f64, 34.0), 10.0, Anchor::Middle, "#333", text);
    }
    svg.rect(300.0, 4.0, 20.0, 16.0, Paint::fill(&svg::accuracy_colour(f64::NAN)), None);
    svg.text((326.0, 16.0), 10.0, Anchor::Start, "#333", "n=0: no labelled event");
    svg.rect(452.0, 5.5, 20.0, 13.0, Paint::stroke("#000", 3.0), None);
    svg.text((478.0, 16.0), 10.0, Anchor::Start, "#333", "chosen point");
    svg.finish()
}

/// The whole section: caption, colour key, then per horizon and pair the
/// training map beside the test map.
pub fn section(grid: &GridInputs, chosen: &BTreeMap<String, f64>) -> String {
    let mut body = String::from(CAPTION);
    let horizons = horizons(grid);
    let pairs = pairs(&grid.parameters);
    if pairs.is_empty() || horizons.is_empty() {
        body.push_str(
            "<p class=\"warn\">No gridded parameters with rolled-up cells: nothing to map.</p>\n",
        );
        return html::section("heatmaps", "3. Accuracy over the grid", &body);
    }
    body.push_str(&legend());
    for h in horizons {
        let _ = writeln!(body, "<h3>Horizon {h} bars</h3>");
        for (x, y) in &pairs {
            body.push_str(&pair_figures(grid, chosen, h, (x, y.as_deref())));
        }
    }
    html::section("heatmaps", "3. Accuracy over the grid", &body)
}

const CAPTION: &str = "<p class=\"note\">Global bucket only. Each cell pools every grid point \
with those two values (the other parameters are <b>pooled, not maximised</b>): accuracy = \
&sum; hits / &sum; labelled over the pooled points, which is their mean accuracy weighted by \
labelled events, and n = &sum; labelled (an event found by several points counts once per \
point). Training uses the last fold (the deployed choice); test pools all folds. Grey cells had \
no labelled event; white cells have no grid point. The black outline is the chosen point. \
Colours saturate at 0.35 and 0.65; hover a cell for its counts.</p>\n";

fn pair_figures(
    grid: &GridInputs,
    chosen: &BTreeMap<String, f64>,
    horizon: usize,
    pair: (&str, Option<&str>),
) -> String {
    let mut out = String::from("<div class=\"pair\">\n");
    for (period, caption) in
        [(Period::Train, "training, last fold"), (Period::Test, "test, all folds pooled")]
    {
        let map = aggregate(grid, period, horizon, pair, chosen);
        let names = match pair.1 {
            Some(y) => format!("{} × {}", pair.0, y),
            None => pair.0.to_string(),
        };
        let label = format!("{names}, horizon {horizon}, {caption}");
        let note = if map.chosen.is_none() { "; chosen point not on this map" } else { "" };
        let _ = write!(
            out,
            "<figure>\n{}<figcaption>{}{}</figcaption>\n</figure>\n",
            draw(&map, &label),
            escape(&label),
            note
        );
    }
    out.push_str("</div>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::inputs::BucketKey;

    fn cell(point: usize, a: f64, b: f64, c: f64, period: Period, hits: u64, n: u64) -> GridCell {
        let params = [("a", a), ("b", b), ("c", c)].into_iter().map(|(k, v)| (k.to_string(), v));
        GridCell {
            point,
            params: params.collect(),
            period,
            horizon: 10,
            hits,
            labelled: n,
            accuracy: if n == 0 { f64::NAN } else { hits as f64 / n as f64 },
            ..Default::default()
        }
    }

    /// a in {1, 2}, b in {5}, c in {0.1, 0.2}: four points.
    fn tiny_grid() -> GridInputs {
        use Period::{Test, Train};
        let mut cells = vec![
            cell(0, 1.0, 5.0, 0.1, Train, 6, 10),
            cell(1, 1.0, 5.0, 0.2, Train, 3, 10),
            cell(2, 2.0, 5.0, 0.1, Train, 0, 0),
            cell(3, 2.0, 5.0, 0.2, Train, 9, 20),
            cell(0, 1.0, 5.0, 0.1, Test, 2, 4),
            cell(1, 1.0, 5.0, 0.2, Test, 4, 6),
            cell(2, 2.0, 5.0, 0.1, Test, 0, 0),
            cell(3, 2.0, 5.0, 0.2, Test, 0, 0),
        ];
        // A bucket row and another horizon, both of which the map must ignore.
        let mut other = cell(0, 1.0, 5.0, 0.1, Train, 100, 100);
        other.bucket = BucketKey { session: "day".into(), ..BucketKey::global() };
        cells.push(other);
        let mut later = cell(0, 1.0, 5.0, 0.1, Train, 50, 50);
        later.horizon = 20;
        cells.push(later);
        GridInputs { parameters: vec!["a".into(), "b".into(), "c".into()], cells }
    }

    fn chosen(a: f64, c: f64) -> BTreeMap<String, f64> {
        [("a".to_string(), a), ("b".to_string(), 5.0), ("c".to_string(), c)].into()
    }

    #[test]
    fn pooling_adds_hits_and_labelled_over_the_parameter_left_out() {
        let map = aggregate(&tiny_grid(), Period::Train, 10, ("a", Some("b")), &chosen(1.0, 0.1));
        assert_eq!(map.x.values, vec![1.0, 2.0]);
        assert_eq!(map.y.as_ref().unwrap().values, vec![5.0]);
        // a=1: (6 + 3) / (10 + 10) = 0.45; a=2: (0 + 9) / (0 + 20) = 0.45.
        assert_eq!(map.cells[0], HeatCell { hits: 9, labelled: 20, points: 2 });
        assert_eq!(map.cells[1], HeatCell { hits: 9, labelled: 20, points: 2 });
        assert_eq!(map.cells[0].accuracy(), 0.45);
        assert_eq!(map.chosen, Some((0, 0)));
    }

    #[test]
    fn pooled_accuracy_is_weighted_by_labelled_events_not_a_plain_mean() {
        let map = aggregate(&tiny_grid(), Period::Test, 10, ("a", Some("c")), &chosen(2.0, 0.2));
        // a=1: points 0 and 1 are separate cells here (c differs).
        assert_eq!(map.cells[0].accuracy(), 0.5); // (a=1, c=0.1): 2 / 4
        let plane = aggregate(&tiny_grid(), Period::Test, 10, ("a", Some("b")), &chosen(2.0, 0.2));
        // (2 + 4) / (4 + 6) = 0.6, whereas the plain mean of 0.5 and 0.667 is 0.583.
        assert_eq!(plane.cells[0].accuracy(), 0.6);
        assert_eq!(map.chosen, Some((1, 1)));
    }

    #[test]
    fn a_cell_without_labelled_events_is_nan_and_drawn_grey_with_n_zero() {
        let map = aggregate(&tiny_grid(), Period::Test, 10, ("a", Some("b")), &chosen(1.0, 0.1));
        assert_eq!(map.cells[1], HeatCell { hits: 0, labelled: 0, points: 2 });
        assert!(map.cells[1].accuracy().is_nan());
        let svg = draw(&map, "t");
        assert!(svg.contains("fill=\"#c8c8c8\""));
        assert!(svg.contains(">n=0</text>"));
    }

    #[test]
    fn training_maps_use_only_the_last_fold() {
        let mut grid = tiny_grid();
        let mut early = cell(0, 1.0, 5.0, 0.1, Period::Train, 1, 1);
        early.fold = 0;
        for c in &mut grid.cells {
            c.fold = 1;
        }
        grid.cells.push(early);
        let map = aggregate(&grid, Period::Train, 10, ("a", Some("b")), &chosen(1.0, 0.1));
        assert_eq!(map.cells[0].labelled, 20);
    }

    #[test]
    fn test_maps_pool_every_fold() {
        let mut grid = tiny_grid();
        let mut second = cell(0, 1.0, 5.0, 0.1, Period::Test, 3, 3);
        second.fold = 1;
        grid.cells.push(second);
        let map = aggregate(&grid, Period::Test, 10, ("a", Some("c")), &chosen(1.0, 0.1));
        assert_eq!(map.cells[0], HeatCell { hits: 5, labelled: 7, points: 1 });
    }

    #[test]
    fn combinations_with_no_grid_point_are_marked_apart_from_n_zero() {
        let mut grid = tiny_grid();
        grid.cells.retain(|c| c.point != 3);
        let map = aggregate(&grid, Period::Train, 10, ("a", Some("c")), &chosen(1.0, 0.1));
        assert_eq!(map.cells[3].points, 0);
        assert!(draw(&map, "t").contains(">no point</text>"));
    }

    #[test]
    fn chosen_values_match_within_rounding_and_are_outlined() {
        let map =
            aggregate(&tiny_grid(), Period::Train, 10, ("a", Some("c")), &chosen(2.0, 0.2 + 1e-13));
        assert_eq!(map.chosen, Some((1, 1)));
        assert!(draw(&map, "t").contains("stroke=\"#000\" stroke-width=\"3.0\""));
        let off = aggregate(&tiny_grid(), Period::Train, 10, ("a", Some("c")), &chosen(3.0, 0.2));
        assert_eq!(off.chosen, None);
        assert!(!draw(&off, "t").contains("stroke-width=\"3.0\""));
    }

    #[test]
    fn three_parameters_give_three_pairs_and_one_gives_a_strip() {
        let names: Vec<String> = ["x", "y", "z"].iter().map(|s| s.to_string()).collect();
        let got = pairs(&names);
        assert_eq!(got.len(), 3);
        assert_eq!(got[2], ("y".to_string(), Some("z".to_string())));
        assert_eq!(pairs(&names[..1]), vec![("x".to_string(), None)]);
        assert!(pairs(&[]).is_empty());
    }

    #[test]
    fn section_draws_two_maps_per_pair_and_horizon() {
        let html = section(&tiny_grid(), &chosen(1.0, 0.1));
        // 3 pairs x 2 horizons x 2 periods, plus the colour key.
        assert_eq!(html.matches("<svg").count(), 3 * 2 * 2 + 1);
        assert!(html.contains("<h3>Horizon 20 bars</h3>"));
    }
}
