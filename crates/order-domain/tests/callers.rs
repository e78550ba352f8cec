//! Who may act on an order is a type the order hands out only to the right user.

use order_domain::fixtures::*;
use order_domain::order::Party;
use order_domain::{Actor, Participant, Parties};

#[test]
fn only_the_orders_buyer_is_its_buyer_and_only_its_seller_its_seller() {
    let order = paid();
    assert_eq!(order.buyer(buyer()).map(|b| b.id()), Some(buyer()));
    assert_eq!(order.seller(seller()).map(|s| s.id()), Some(seller()));
    assert!(order.buyer(seller()).is_none());
    assert!(order.seller(buyer()).is_none());
    assert!(order.buyer(stranger()).is_none());
    assert!(order.seller(stranger()).is_none());
}

#[test]
fn a_participant_is_either_party_and_knows_which() {
    let order = paid();
    let as_buyer = order.participant(buyer()).unwrap();
    let as_seller = order.participant(seller()).unwrap();
    assert!(matches!(as_buyer, Participant::Buyer(_)));
    assert_eq!(as_buyer.party(), Party::Buyer);
    assert_eq!(as_seller.party(), Party::Seller);
    assert!(order.participant(stranger()).is_none());
}

#[test]
fn a_disputes_participants_are_its_orders() {
    let (order, dispute) = disputed_from(shipped());
    for user in [buyer(), seller(), stranger()] {
        assert_eq!(dispute.participant(user), order.participant(user));
    }
}

#[test]
fn each_caller_is_recorded_as_the_actor_it_is() {
    let order = paid();
    assert_eq!(
        Actor::from(order.buyer(buyer()).unwrap()),
        Actor::Buyer(buyer())
    );
    assert_eq!(
        Actor::from(order.seller(seller()).unwrap()),
        Actor::Seller(seller())
    );
    assert_eq!(
        Actor::from(order.participant(seller()).unwrap()),
        Actor::Seller(seller())
    );
    assert_eq!(Actor::from(admin()), Actor::Admin(admin().id()));
}
