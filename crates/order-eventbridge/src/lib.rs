//! Where the Order Service's events go: AWS EventBridge when a bus is
//! configured, the log otherwise. Both implement the `EventPublisher` port; the relay in
//! `order-app` decides what to publish and what to retry.

#[cfg(feature = "emulator")]
pub mod emulator;
mod eventbridge;
mod log;

pub use eventbridge::{EventBridgePublisher, MAX_ENTRIES_PER_CALL};
pub use log::LogPublisher;
