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

#[cfg(test)]
mod tests {
    use crate::dispute::{DisputeStatus, Resolution};
    use crate::order::OrderSource;
    use crate::EventType;

    #[test]
    fn every_wire_name_reads_back_as_its_value() {
        for status in DisputeStatus::ALL {
            assert_eq!(status.to_string().parse(), Ok(status));
        }
        for resolution in Resolution::ALL {
            assert_eq!(resolution.to_string().parse(), Ok(resolution));
        }
        for source in OrderSource::ALL {
            assert_eq!(source.to_string().parse(), Ok(source));
        }
        for event_type in EventType::ALL {
            assert_eq!(event_type.to_string().parse(), Ok(event_type));
        }
    }

    #[test]
    fn another_word_is_refused_naming_it_and_what_it_is_not() {
        let refusals = [
            (
                "open".parse::<DisputeStatus>().map(drop),
                "\"open\" is not a valid dispute status.",
            ),
            (
                "REFUND".parse::<Resolution>().map(drop),
                "\"REFUND\" is not a valid resolution.",
            ),
            (
                "SHOP".parse::<OrderSource>().map(drop),
                "\"SHOP\" is not a valid order source.",
            ),
            (
                "order.lost".parse::<EventType>().map(drop),
                "\"order.lost\" is not an event type.",
            ),
        ];
        for (refused, message) in refusals {
            assert_eq!(refused, Err(message.to_owned()));
        }
    }
}
