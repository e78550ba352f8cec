//! Typed identifiers: a buyer's id cannot be passed where an order id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// The id that `uuid` stands for.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID behind the id.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// An order of this service.
    OrderId
);
uuid_id!(
    /// A listing of the Listing service; one live order at most per listing.
    ListingId
);
uuid_id!(
    /// A marketplace user: a buyer, a seller or an admin.
    UserId
);
uuid_id!(
    /// A dispute opened on an order.
    DisputeId
);
uuid_id!(
    /// An escrow held by the Wallet service; the order only links to it.
    EscrowId
);
uuid_id!(
    /// A published event, unique so that consumers can drop redelivered duplicates.
    EventId
);
uuid_id!(
    /// A seller's settlement offer in a dispute.
    OfferId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_parse_as_hyphenated_uuids() {
        let id: OrderId = "6f9619ff-8b86-d011-b42d-00c04fc964ff".parse().unwrap();
        assert_eq!(id.to_string(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"6f9619ff-8b86-d011-b42d-00c04fc964ff\""
        );
    }

    #[test]
    fn a_non_uuid_is_not_an_id() {
        assert!("42".parse::<OrderId>().is_err());
    }
}
