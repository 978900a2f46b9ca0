//! Where each field of a scenario file sits: a map from field path to line and column.
//!
//! The typed structs in spec/ carry no positions (so they stay plain for serde and schemars).
//! Instead the file is read once more as a bare tree of maps, lists and scalars, each with its
//! position, and flattened into paths like `faults[2].stall.direction`. Validation then reports an
//! error by path and this index supplies the position. Scalars also keep their byte range, so
//! a swarm draw can be written into the file in place of the value (scenario/swarm/).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use super::error::Position;

/// A YAML node stripped to its shape; only positions matter here.
enum Node {
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((Spanned::new(key.value.0, key.referenced, key.defined), value));
        }
        Ok(Node::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i128<E>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u128<E>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// A mapping key of any scalar type, as text (`1: x` has the key `1`).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a plain mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("~".to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

/// The positions of one field: its key (if it is a map entry) and its value.
#[derive(Clone, Copy, Debug)]
pub struct Spot {
    /// Where the key is written; `None` for list items and the document root.
    pub key: Option<Position>,
    /// Where the value starts.
    pub value: Position,
    /// The bytes of the value's token in the text (quotes included; an alias is its `*name`),
    /// for scalars only.
    pub scalar: Option<ByteSpan>,
    /// Whether the value is an alias (`*name`) of an anchor written elsewhere.
    pub alias: bool,
    /// For a scalar reached through an alias, the bytes of the anchored value it repeats.
    pub anchored: Option<ByteSpan>,
}

/// A run of bytes in the scenario text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSpan {
    /// Offset of the first byte.
    pub start: usize,
    /// Number of bytes.
    pub len: usize,
}

impl ByteSpan {
    /// The span as a range for slicing.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.start + self.len
    }
}

/// Field path → positions, for a whole file.
#[derive(Debug, Default)]
pub struct Locations {
    spots: BTreeMap<String, Spot>,
}

fn position(location: &Location) -> Position {
    Position { line: location.line().max(1) as u32, column: location.column().max(1) as u32 }
}

impl Locations {
    /// Reads `text` as a bare YAML tree. Fails only on YAML syntax errors, which are returned as
    /// serde-saphyr reports them.
    pub fn index(text: &str) -> Result<Self, serde_saphyr::Error> {
        let root: Spanned<Node> = serde_saphyr::from_str(text)?;
        let mut locations = Locations::default();
        locations.visit(String::new(), None, &root);
        Ok(locations)
    }

    fn visit(&mut self, path: String, key: Option<Position>, node: &Spanned<Node>) {
        let bytes = |location: &Location| {
            let span = location.span();
            match (&node.value, span.byte_offset(), span.byte_len()) {
                (Node::Scalar, Some(start), Some(len)) => {
                    Some(ByteSpan { start: start as usize, len: len as usize })
                }
                _ => None,
            }
        };
        let (scalar, alias) = (bytes(&node.referenced), node.referenced != node.defined);
        let anchored = if alias { bytes(&node.defined) } else { None };
        let spot = Spot { key, value: position(&node.referenced), scalar, alias, anchored };
        self.spots.insert(path.clone(), spot);
        match &node.value {
            Node::Map(entries) => {
                for (name, value) in entries {
                    let child =
                        if path.is_empty() { name.value.clone() } else { format!("{path}.{}", name.value) };
                    self.visit(child, Some(position(&name.referenced)), value);
                }
            }
            Node::Seq(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.visit(format!("{path}[{index}]"), None, item);
                }
            }
            Node::Scalar => {}
        }
    }

    /// The positions of `path`, or of its nearest ancestor that is written in the file (a missing
    /// field is reported where its parent is).
    pub fn find(&self, path: &str) -> Option<Spot> {
        let mut current = path;
        loop {
            if let Some(spot) = self.spots.get(current) {
                return Some(*spot);
            }
            let Some(cut) = current.rfind(['.', '[']) else {
                return self.spots.get("").copied();
            };
            current = &current[..cut];
        }
    }

    /// The positions of `path` itself, if the file writes it.
    pub fn get(&self, path: &str) -> Option<Spot> {
        self.spots.get(path).copied()
    }

    /// Whether an alias elsewhere repeats the scalar at `span` (an anchored value).
    pub fn repeated(&self, span: ByteSpan) -> bool {
        self.spots.values().any(|spot| spot.anchored == Some(span))
    }

    /// Whether `path` lies inside a map or list that is an alias of an anchor written elsewhere
    /// (its value is then written once for every use of the anchor).
    pub fn inside_alias(&self, path: &str) -> bool {
        let mut current = path;
        while let Some(cut) = current.rfind(['.', '[']) {
            current = &current[..cut];
            if self.spots.get(current).is_some_and(|spot| spot.alias) {
                return true;
            }
        }
        false
    }

    /// Where a problem with the *value* at `path` should point.
    pub fn value(&self, path: &str) -> Option<Position> {
        self.find(path).map(|spot| spot.value)
    }

    /// Where a problem with the *key* at `path` should point (its value if it has no key).
    pub fn key(&self, path: &str) -> Option<Position> {
        self.find(path).map(|spot| spot.key.unwrap_or(spot.value))
    }
}
