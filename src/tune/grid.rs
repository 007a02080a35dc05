//! The parameter grid: which detector parameters are searched, over which
//! values, under which constraints between them.
//!
//! Each gridded parameter takes a list (`[8, 13, 21]`) or a range
//! (`{from: 8, to: 21, step: 1}`, both ends included). Every other
//! parameter keeps its value from the `detector:` section. Constraints such
//! as `z_mid < z_hi` drop points before any replay. Points are numbered in
//! a fixed order (the product of the parameter lists in config order), so
//! a point id means the same parameters in every artifact of a run.

use crate::detector::DetectorParams;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Values of one gridded parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GridValues {
    List(Vec<f64>),
    Range { from: f64, to: f64, step: f64 },
}

impl GridValues {
    /// The values in order; a range includes both ends (to within 1e-9 of a
    /// step, so that 0.4..0.8 by 0.2 has three values despite rounding).
    pub fn expand(&self) -> Result<Vec<f64>, String> {
        match self {
            GridValues::List(values) if values.is_empty() => Err("an empty list".into()),
            GridValues::List(values) => Ok(values.clone()),
            GridValues::Range { from, to, step } => {
                if !(step.is_finite() && *step > 0.0 && from.is_finite() && to >= from) {
                    return Err(format!(
                        "range from {from} to {to} step {step}: need from <= to and step > 0"
                    ));
                }
                let count = ((to - from) / step + 1e-9).floor() as usize + 1;
                if count > 100_000 {
                    return Err(format!(
                        "range has {count} values; more than 100000 is surely a mistake"
                    ));
                }
                Ok((0..count).map(|i| round12(from + i as f64 * step)).collect())
            }
        }
    }
}

/// Rounds away the binary noise of repeated float steps (0.6000000000000001).
fn round12(x: f64) -> f64 {
    (x * 1e12).round() / 1e12
}

/// A constraint between two parameters, written `a < b`, `a <= b`, `a > b`,
/// `a >= b` or `a != b`; either side may also be a number.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    left: Operand,
    op: Op,
    right: Operand,
    text: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Param(String),
    Number(f64),
}

#[derive(Copy, Clone, Debug, PartialEq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Ne,
}

impl Constraint {
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let ops = [("<=", Op::Le), (">=", Op::Ge), ("!=", Op::Ne), ("<", Op::Lt), (">", Op::Gt)];
        let (symbol, op) = ops.iter().find(|(s, _)| text.contains(s)).ok_or_else(|| {
            format!("constraint `{text}`: write it as `a < b` (<, <=, >, >=, !=)")
        })?;
        let (l, r) = text.split_once(symbol).expect("the operator was found");
        let operand = |s: &str| -> Result<Operand, String> {
            let s = s.trim();
            if let Ok(n) = s.parse::<f64>() {
                return Ok(Operand::Number(n));
            }
            if DetectorParams::NAMES.contains(&s) {
                return Ok(Operand::Param(s.to_string()));
            }
            Err(format!(
                "constraint `{text}`: `{s}` is neither a number nor one of {}",
                DetectorParams::NAMES.join(", ")
            ))
        };
        Ok(Constraint {
            left: operand(l)?,
            op: *op,
            right: operand(r)?,
            text: text.trim().to_string(),
        })
    }

    pub fn holds(&self, params: &DetectorParams) -> bool {
        let value = |o: &Operand| match o {
            Operand::Param(name) => params.get(name).unwrap_or(f64::NAN),
            Operand::Number(n) => *n,
        };
        let (a, b) = (value(&self.left), value(&self.right));
        match self.op {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Ne => a != b,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The grid as configured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridConfig {
    /// Gridded parameters by name, in the order they vary (last fastest).
    pub params: BTreeMap<String, GridValues>,
    /// Constraints that every point must satisfy.
    pub constraints: Vec<String>,
    /// Order in which parameters are listed in artifacts and vary in the
    /// product; names not listed follow in alphabetical order.
    pub order: Vec<String>,
}

impl Default for GridConfig {
    fn default() -> Self {
        let list = |v: &[f64]| GridValues::List(v.to_vec());
        GridConfig {
            params: BTreeMap::from([
                ("swing_l".to_string(), list(&[8.0, 13.0, 21.0])),
                ("z_hi".to_string(), list(&[1.2, 1.6, 2.0])),
                ("z_mid".to_string(), list(&[0.4, 0.6, 0.8])),
            ]),
            constraints: Vec::new(),
            order: vec!["swing_l".into(), "z_hi".into(), "z_mid".into()],
        }
    }
}

/// One point of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct GridPoint {
    pub id: usize,
    pub params: DetectorParams,
}

/// The expanded grid.
#[derive(Clone, Debug)]
pub struct Grid {
    /// Gridded parameter names, in product order.
    pub names: Vec<String>,
    pub points: Vec<GridPoint>,
    /// Points removed by constraints or cross-parameter validation.
    pub rejected: usize,
}

impl GridConfig {
    /// Expands the grid on top of `base`, checking every value against the
    /// parameter's documented range.
    pub fn expand(&self, base: &DetectorParams) -> Result<Grid, String> {
        let names = self.ordered_names()?;
        let mut axes = Vec::with_capacity(names.len());
        for name in &names {
            let values =
                self.params[name].expand().map_err(|e| format!("tune.grid.params.{name}: {e}"))?;
            for &v in &values {
                base.clone().set(name, v).map_err(|e| format!("tune.grid.params.{name}: {e}"))?;
            }
            axes.push(values);
        }
        let constraints: Vec<Constraint> =
            self.constraints.iter().map(|c| Constraint::parse(c)).collect::<Result<_, _>>()?;
        let total: usize = axes.iter().map(Vec::len).product();
        if total > 1_000_000 {
            return Err(format!(
                "tune.grid has {total} points; split the search (at most 1000000)"
            ));
        }
        let mut points = Vec::new();
        let mut rejected = 0;
        for flat in 0..total {
            let params = point_at(base, &names, &axes, flat);
            if constraints.iter().all(|c| c.holds(&params)) && params.validate().is_ok() {
                points.push(GridPoint { id: points.len(), params });
            } else {
                rejected += 1;
            }
        }
        if points.is_empty() {
            return Err(format!(
                "tune.grid: all {total} points are excluded by the constraints or ranges"
            ));
        }
        Ok(Grid { names, points, rejected })
    }

    fn ordered_names(&self) -> Result<Vec<String>, String> {
        for name in self.params.keys().chain(&self.order) {
            if !DetectorParams::NAMES.contains(&name.as_str()) {
                return Err(format!(
                    "tune.grid: `{name}` is not a detector parameter; choose from {}",
                    DetectorParams::NAMES.join(", ")
                ));
            }
        }
        let mut names: Vec<String> =
            self.order.iter().filter(|n| self.params.contains_key(*n)).cloned().collect();
        let rest: Vec<String> =
            self.params.keys().filter(|n| !names.contains(n)).cloned().collect();
        names.extend(rest);
        Ok(names)
    }
}

/// The parameters at flat index `flat` of the product (last axis fastest).
fn point_at(
    base: &DetectorParams,
    names: &[String],
    axes: &[Vec<f64>],
    mut flat: usize,
) -> DetectorParams {
    let mut params = base.clone();
    for (name, axis) in names.iter().zip(axes).rev() {
        let v = axis[flat % axis.len()];
        flat /= axis.len();
        params.set(name, v).expect("values were checked against their ranges");
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_grid_has_27_points_in_product_order() {
        let grid = GridConfig::default().expand(&DetectorParams::default()).unwrap();
        assert_eq!(grid.points.len(), 27);
        assert_eq!(grid.names, vec!["swing_l", "z_hi", "z_mid"]);
        let first = &grid.points[0].params;
        let second = &grid.points[1].params;
        assert_eq!((first.swing_l, first.z_hi, first.z_mid), (8, 1.2, 0.4));
        assert_eq!((second.swing_l, second.z_hi, second.z_mid), (8, 1.2, 0.6));
        assert_eq!(grid.points[26].params.swing_l, 21);
    }

    #[test]
    fn a_range_includes_both_ends_without_float_noise() {
        let values = GridValues::Range { from: 0.4, to: 0.8, step: 0.2 }.expand().unwrap();
        assert_eq!(values, vec![0.4, 0.6, 0.8]);
        assert!(GridValues::Range { from: 1.0, to: 0.0, step: 0.1 }.expand().is_err());
        assert!(GridValues::List(vec![]).expand().is_err());
    }

    #[test]
    fn constraints_drop_points_before_any_replay() {
        let mut config = GridConfig::default();
        config.params.insert("z_mid".into(), GridValues::List(vec![0.4, 1.6]));
        config.constraints = vec!["z_mid < z_hi".into()];
        let grid = config.expand(&DetectorParams::default()).unwrap();
        assert!(grid.points.iter().all(|p| p.params.z_mid < p.params.z_hi));
        assert_eq!(grid.points.len() + grid.rejected, 18);
        assert_eq!(grid.rejected, 6, "z_mid 1.6 fails against z_hi 1.2 and 1.6 for each swing_l");
    }

    #[test]
    fn out_of_range_values_and_unknown_names_are_rejected() {
        let mut config = GridConfig::default();
        config.params.insert("swing_l".into(), GridValues::List(vec![0.0]));
        let err = config.expand(&DetectorParams::default()).unwrap_err();
        assert!(err.contains("swing_l") && err.contains("got 0"), "{err}");
        let mut config = GridConfig::default();
        config.params.insert("swing".into(), GridValues::List(vec![5.0]));
        assert!(config.expand(&DetectorParams::default()).unwrap_err().contains("`swing`"));
        assert!(Constraint::parse("z_hi ~ 3").is_err());
        assert!(Constraint::parse("z_hi < zz").is_err());
    }
}
