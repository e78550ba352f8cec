//! The values a caller writes, as an OpenAPI document states them: the same bounds the
//! parsers enforce, built from the same constants and the same character tests, so that a
//! client validating against the document accepts exactly what the service accepts.
//!
//! The parsers trim what [`str::trim`] removes before counting, so a text's length cannot be
//! a plain `maxLength`: the bounds are in the pattern, which lets any padding through and
//! counts the characters between the first and the last that are not padding. The patterns
//! read the same in ECMA-262 (JSON Schema) and in Python's `re` (the fuzzer's generator).

use std::borrow::Cow;
use std::sync::LazyLock;

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::dispute::DisputeReason;
use crate::order::{CancellationReason, Carrier, CarrierDetail, ShippingAddress, TrackingNumber};

/// A character class's body (without the brackets) holding every character `matches` takes.
/// Only the Basic Multilingual Plane is read: no whitespace or control character lies beyond.
fn class(matches: impl Fn(char) -> bool) -> String {
    let mut runs: Vec<(char, char)> = Vec::new();
    for c in (0..=0xFFFF_u32)
        .filter_map(char::from_u32)
        .filter(|&c| matches(c))
    {
        match runs.last_mut() {
            Some((_, last)) if *last as u32 + 1 == c as u32 => *last = c,
            _ => runs.push((c, c)),
        }
    }
    runs.iter()
        .map(|&(first, last)| match first == last {
            true => escaped(first),
            false => format!("{}-{}", escaped(first), escaped(last)),
        })
        .collect()
}

/// The class body of what [`str::trim`] removes, built once.
fn padding() -> &'static str {
    static PADDING: LazyLock<String> = LazyLock::new(|| class(char::is_whitespace));
    &PADDING
}

fn escaped(c: char) -> String {
    match c as u32 {
        code @ 0..=0xFF => format!("\\x{code:02X}"),
        code => format!("\\u{code:04X}"),
    }
}

/// A pattern matching exactly the texts that, once trimmed, have `min..=max` characters
/// (`2 <= max`) and hold none of `banned` (a class body).
fn trimmed_text(min: usize, max: usize, banned: &str) -> String {
    let padding = padding();
    // The trimmed text runs from its first to its last character that is not padding.
    let end = format!("[^{banned}{padding}]");
    let inner = format!("[^{banned}]");
    let longer = format!("{end}{inner}{{{},{}}}{end}", min.saturating_sub(2), max - 2);
    let text = match min {
        0 => format!("({end}|{longer})?"),
        1 => format!("({end}|{longer})"),
        _ => longer,
    };
    format!("^[{padding}]*{text}[{padding}]*$")
}

fn string(pattern: String, description: String) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .pattern(Some(pattern))
        .description(Some(description))
        .into()
}

/// A free text: `min..=max` characters once trimmed, no NUL.
fn free_text(min: usize, max: usize) -> Schema {
    let length = match min {
        0 => format!("At most {max}"),
        _ => format!("{min}–{max}"),
    };
    string(
        trimmed_text(min, max, "\\x00"),
        format!("{length} characters once trimmed of surrounding whitespace; no NUL."),
    )
}

/// `impl ToSchema` for a value type whose schema is `schema`.
macro_rules! value_schema {
    ($($name:ident => $schema:expr;)*) => {$(
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T($schema)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

value_schema! {
    CancellationReason => free_text(1, CancellationReason::MAX_CHARS);
    CarrierDetail => free_text(0, CarrierDetail::MAX_CHARS);
    DisputeReason => free_text(DisputeReason::MIN_CHARS, DisputeReason::MAX_CHARS);
    Carrier => string(
        trimmed_text(1, Carrier::MAX_CHARS, &class(char::is_control)),
        format!(
            "1–{} printable characters once trimmed of surrounding whitespace.",
            Carrier::MAX_CHARS
        ),
    );
    TrackingNumber => {
        let padding = padding();
        let max = TrackingNumber::MAX_CHARS;
        string(
            format!("^[{padding}]*[A-Za-z0-9-]{{1,{max}}}[{padding}]*$"),
            format!("1–{max} letters, digits or hyphens once trimmed of surrounding whitespace."),
        )
    };
    ShippingAddress => {
        let line = |max: usize| {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .max_length(Some(max))
                .pattern(Some("^[^\\x00]*$"))
        };
        #[allow(deprecated)] // `example`, as the derived schemas have it
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Object))
            .description(Some(format!(
                "Where the item goes: a flat object of named lines (`{{\"name\": …, \"line1\": …, \
                 \"city\": …}}`), in whatever layout the client uses: at most {} keys of 1–{} \
                 characters, each value at most {} characters, no NUL anywhere.",
                ShippingAddress::MAX_KEYS,
                ShippingAddress::MAX_KEY_CHARS,
                ShippingAddress::MAX_VALUE_CHARS,
            )))
            .max_properties(Some(ShippingAddress::MAX_KEYS))
            .property_names(Some(line(ShippingAddress::MAX_KEY_CHARS).min_length(Some(1))))
            .additional_properties(Some(line(ShippingAddress::MAX_VALUE_CHARS)))
            .example(Some(serde_json::json!({"name": "Alice", "city": "Lyon"})))
            .into()
    };
}
