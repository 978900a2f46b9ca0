//! The value types of the raw file: typed values kept as text (durations, rates, sizes, shares,
//! counts, close codes), each with a schema pattern for editors, and [`WordOr`], a field that
//! takes either a bare word or a map.

use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// Declares a text value type: a YAML scalar kept as text, with a schema pattern for editors.
macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $pattern:expr, $example:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": ["string", "number"],
                    "pattern": $pattern,
                    "examples": [$example],
                })
            }
        }
    };
}

text_value!(
    /// A duration with a unit: `250ms`, `5s`, `2m`, `1h`.
    DurationText,
    r"^\s*[0-9.]+\s*(ns|us|µs|ms|s|m|h)\s*$",
    "5s"
);
text_value!(
    /// A duration with an optional symmetric spread: `10s ± 3s` (or `10s +- 3s`).
    JitteredText,
    r"^\s*[0-9.]+\s*(ns|us|µs|ms|s|m|h)\s*((±|\+-)\s*[0-9.]+\s*(ns|us|µs|ms|s|m|h)\s*)?$",
    "10s ± 3s"
);
text_value!(
    /// An event rate: `20/s`, `1200/m`, `3/h`.
    RateText,
    r"^\s*[0-9.]+\s*/\s*(s|m|h)\s*$",
    "20/s"
);
text_value!(
    /// A size: `64B`, `16KiB`, `1MiB`.
    SizeText,
    r"^\s*[0-9.]+\s*(B|KiB|MiB|GiB|kB|KB|MB|GB)\s*$",
    "16KiB"
);
text_value!(
    /// A byte rate: `10KiB/s`.
    ByteRateText,
    r"^\s*[0-9.]+\s*(B|KiB|MiB|GiB|kB|KB|MB|GB)\s*/\s*(s|m|h)\s*$",
    "10KiB/s"
);
text_value!(
    /// A share of clients or links, as a percentage: `50%`.
    ShareText,
    r"^\s*[0-9.]+\s*%\s*$",
    "50%"
);
text_value!(
    /// A whole number, or `unlimited`.
    CountText,
    r"^\s*([0-9]+|unlimited)\s*$",
    "unlimited"
);
text_value!(
    /// A close code (`1008`) or an inclusive range of them (`4000-4099`).
    CodeRangeText,
    r"^\s*[0-9]+\s*(-\s*[0-9]+\s*)?$",
    "4000-4099"
);

/// Either a bare word (`off`, `all`, a preset name) or a map of settings.
#[derive(Clone, Debug, PartialEq)]
pub enum WordOr<T> {
    /// The bare word, checked by validate/ against the words the field accepts.
    Word(String),
    /// The map form.
    Map(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for WordOr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WordOrVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for WordOrVisitor<T> {
            type Value = WordOr<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a word or a map")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(WordOr::Word(value.to_string()))
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
                // YAML 1.1 habits: `off` may arrive as the boolean false.
                Ok(WordOr::Word(if value { "on" } else { "off" }.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(WordOr::Map)
            }
        }

        deserializer.deserialize_any(WordOrVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for WordOr<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("WordOr_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let map = generator.subschema_for::<T>();
        json_schema!({ "anyOf": [{ "type": "string" }, map] })
    }
}
