//! Serde adapter for f64 fields that may be NaN or infinite.
//!
//! JSON has no NaN or infinity: serde_json writes both as `null` and then
//! refuses to read `null` back into an f64, so a result with an undefined
//! value (a Spearman rho of a constant input, an empty bin) would not
//! round-trip. Use `#[serde(with = "crate::stats::json_float")]` on such
//! fields: NaN is written as `null`, +inf and -inf as the strings `"inf"`
//! and `"-inf"`, finite values as numbers, and all four read back exactly.

use serde::{Deserialize, Deserializer, Serializer};

/// Writes NaN as null, infinities as "inf" / "-inf", finite values as numbers.
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_nan() {
        serializer.serialize_none()
    } else if value.is_infinite() {
        serializer.serialize_str(if *value > 0.0 { "inf" } else { "-inf" })
    } else {
        serializer.serialize_f64(*value)
    }
}

/// Reads what [`serialize`] writes; any other string is an error.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }
    match Option::<Repr>::deserialize(deserializer)? {
        None => Ok(f64::NAN),
        Some(Repr::Number(v)) => Ok(v),
        Some(Repr::Text(s)) if s == "inf" => Ok(f64::INFINITY),
        Some(Repr::Text(s)) if s == "-inf" => Ok(f64::NEG_INFINITY),
        Some(Repr::Text(s)) => Err(serde::de::Error::custom(format!(
            "expected a number, null, \"inf\" or \"-inf\", got \"{s}\""
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        v: f64,
    }

    fn round_trip(v: f64) -> (String, f64) {
        let text = serde_json::to_string(&Holder { v }).unwrap();
        let back: Holder = serde_json::from_str(&text).unwrap();
        (text, back.v)
    }

    #[test]
    fn finite_values_stay_plain_numbers() {
        assert_eq!(round_trip(1.5), (r#"{"v":1.5}"#.to_string(), 1.5));
        assert_eq!(round_trip(-0.1).1, -0.1);
    }

    #[test]
    fn nan_is_written_as_null_and_read_back_as_nan() {
        let (text, back) = round_trip(f64::NAN);
        assert_eq!(text, r#"{"v":null}"#);
        assert!(back.is_nan());
    }

    #[test]
    fn infinities_are_written_as_strings_and_read_back() {
        assert_eq!(round_trip(f64::INFINITY), (r#"{"v":"inf"}"#.to_string(), f64::INFINITY));
        assert_eq!(round_trip(f64::NEG_INFINITY).1, f64::NEG_INFINITY);
    }

    #[test]
    fn unknown_strings_are_rejected() {
        assert!(serde_json::from_str::<Holder>(r#"{"v":"nan"}"#).is_err());
    }
}
