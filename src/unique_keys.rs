//! Every key of a RON file appears once.
//!
//! A map read into a `BTreeMap` keeps the last of two equal keys, so
//! `{"ssh_public": "off", "ssh_public": "on"}` reads as "on" while a reviewer reads "off". Maps
//! are read through [`map`], which refuses a repeated key; a repeated struct field is already a
//! parser error, and [`syntax_message`] words both alike. The parser places the error at the
//! repeated key, so the loaders' `file:line:col` points at it.

use crate::user_text::{cleaned, quoted};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// Reads a map of strings, refusing a key that appears twice (`#[serde(deserialize_with)]`).
pub fn map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct Unique;
    impl<'de> Visitor<'de> for Unique {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of strings to strings")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = access.next_key::<String>()? {
                // Refused before its value is read: the parser is still at the key.
                if out.contains_key(&key) {
                    return Err(de::Error::custom(duplicate(&key)));
                }
                let value = access.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique)
}

/// The message for a key given twice.
fn duplicate(key: &str) -> String {
    format!(
        "duplicate key {}: each key may appear once (the later value would silently replace the earlier)",
        quoted(key)
    )
}

/// A RON parser error as the loaders show it: a repeated struct field worded like a repeated map
/// key, and any value the parser quotes escaped and cut.
pub fn syntax_message(code: &ron::Error) -> String {
    match code {
        ron::Error::DuplicateStructField { field, .. } => duplicate(field),
        other => cleaned(&other.to_string()).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "map")]
        params: BTreeMap<String, String>,
    }

    #[test]
    fn a_repeated_key_is_refused_where_it_stands() {
        let text = "(params: {\"a\": \"off\", \"b\": \"x\", \"a\": \"on\"})";
        let e = ron::from_str::<Holder>(text).unwrap_err();
        assert_eq!(e.span.start.line, 1);
        let key = text.rfind("\"a\"").unwrap();
        // At the key's opening quote or just inside it.
        assert!(
            [key + 1, key + 2].contains(&e.span.start.col),
            "{} for {key}",
            e.span.start.col
        );
        assert!(
            syntax_message(&e.code).starts_with("duplicate key 'a': "),
            "{}",
            e.code
        );
        let ok = ron::from_str::<Holder>("(params: {\"a\": \"off\", \"b\": \"on\"})").unwrap();
        assert_eq!(ok.params.len(), 2);
    }

    #[test]
    fn a_repeated_field_reads_like_a_repeated_key() {
        let e = ron::from_str::<Holder>("(params: {}, params: {})").unwrap_err();
        assert!(
            syntax_message(&e.code).starts_with("duplicate key 'params': "),
            "{}",
            e.code
        );
        assert_eq!(e.span.start.col, 14);
    }
}
