//! The enums named on the wire (statuses, resolutions, event types, …) write each name
//! once, in their `as_str`; `wire_name!` derives from it `Display` and, for an enum with a
//! `const ALL`, `FromStr`, whose refusal says what the word is not.

/// `wire_name!(display Type)`: `Display` as `as_str`.
/// `wire_name!(Type, "a valid …")`: that, and `FromStr` over `Type::ALL`, refusing any other
/// word with `"<word>" is not a valid ….`
macro_rules! wire_name {
    (display $name:ty) => {
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    ($name:ty, $what:literal) => {
        wire_name!(display $name);

        impl ::std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$name>::ALL
                    .into_iter()
                    .find(|value| value.as_str() == s)
                    .ok_or_else(|| format!(concat!("\"{}\" is not ", $what, "."), s))
            }
        }
    };
}
