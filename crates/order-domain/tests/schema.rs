//! What the OpenAPI document says a caller may write is exactly what the parsers take: a
//! client that validates against the document is never refused for a value it let through,
//! and never stops a value the service would have taken.

use order_domain::dispute::DisputeReason;
use order_domain::order::{CancellationReason, Carrier, CarrierDetail, TrackingNumber};
use std::sync::LazyLock;

use proptest::prelude::*;
use regex::Regex;
use utoipa::PartialSchema;

/// The `pattern` of `T`'s schema, compiled.
fn pattern<T: PartialSchema>() -> Regex {
    let schema = serde_json::to_value(T::schema()).unwrap();
    Regex::new(schema["pattern"].as_str().expect("a pattern")).unwrap()
}

/// Characters that sit on the rules' edges: padding `str::trim` removes (ASCII, Latin-1 and
/// wider), whitespace it keeps out of the padding class's reach (U+FEFF is not whitespace),
/// controls that are and are not whitespace, NUL, and plain letters of one to four bytes.
const EDGES: &[char] = &[
    'a', 'Z', '7', '-', ' ', '\t', '\n', '\u{0B}', '\u{85}', '\u{A0}', '\u{1680}', '\u{2028}',
    '\u{3000}', '\u{FEFF}', '\u{1C}', '\0', '\u{01}', '\u{7F}', '\u{9F}', 'é', '😀', '.',
];

/// A text of `EDGES` characters and plain letters, `0..=max` long, weighted to plain letters so
/// that long texts near a bound are common.
fn text(max: usize) -> impl Strategy<Value = String> {
    let char = prop_oneof![
        3 => prop::sample::select(EDGES),
        7 => prop::char::range('a', 'z'),
    ];
    prop::collection::vec(char, 0..=max).prop_map(|chars| chars.into_iter().collect())
}

/// `body` with `before` and `after` characters of padding: the bounds count what is between.
fn padded(body: &str, before: usize, after: usize) -> String {
    format!(
        "{}{body}{}",
        " \t".repeat(before),
        "\u{3000}\n".repeat(after)
    )
}

/// A documented text: its name, its schema's pattern, and whether its parser takes a value.
struct Documented {
    name: &'static str,
    pattern: Regex,
    takes: fn(&str) -> bool,
}

static DOCUMENTED: LazyLock<[Documented; 5]> = LazyLock::new(|| {
    [
        Documented {
            name: "a cancellation or action reason",
            pattern: pattern::<CancellationReason>(),
            takes: |value| CancellationReason::parse(value).is_ok(),
        },
        Documented {
            name: "a dispute reason",
            pattern: pattern::<DisputeReason>(),
            takes: |value| DisputeReason::parse(value).is_ok(),
        },
        Documented {
            name: "a carrier's note",
            pattern: pattern::<CarrierDetail>(),
            takes: |value| CarrierDetail::parse(value).is_ok(),
        },
        Documented {
            name: "a carrier",
            pattern: pattern::<Carrier>(),
            takes: |value| Carrier::parse(value).is_ok(),
        },
        Documented {
            name: "a tracking number",
            pattern: pattern::<TrackingNumber>(),
            takes: |value| TrackingNumber::parse(value).is_ok(),
        },
    ]
});

/// Every documented text's pattern matches `value` exactly when its parser takes it.
fn every_pattern_agrees_on(value: &str) {
    for documented in DOCUMENTED.iter() {
        assert_eq!(
            documented.pattern.is_match(value),
            (documented.takes)(value),
            "{}: the pattern and the parser disagree on {value:?} ({} characters)",
            documented.name,
            value.chars().count()
        );
    }
}

proptest! {
    #[test]
    fn every_documented_text_is_matched_exactly_when_its_parser_takes_it(
        // Around each bound: a carrier's 32, a tracking number's 64, a reason's 500 and a
        // dispute reason's 5000.
        value in prop_oneof![text(40), text(70), text(520), text(5020)]
    ) {
        every_pattern_agrees_on(&value);
    }
}

#[test]
fn the_length_bounds_count_what_is_left_once_trimmed() {
    for (before, after) in [(0, 0), (3, 0), (0, 3), (2, 5)] {
        for length in [0, 1, 9, 10, 32, 33, 64, 65, 500, 501, 5000, 5001] {
            let value = padded(&"x".repeat(length), before, after);
            every_pattern_agrees_on(&value);
        }
    }
}
