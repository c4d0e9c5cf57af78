//! Support for the framework adapter crates, not for receivers.
//!
//! Each adapter's `inbox` feature adds an `InboxWebhook` extractor: it
//! verifies the request as every other extractor does, stores the event in
//! the [`Inbox`](crate::Inbox) the app registered, and becomes the 202 or
//! 200 answer when the handler returns it. The adapter writes the struct
//! and its framework traits; this macro adds what is the same in all of
//! them, as the core's `__impl_extractor!` does for the other extractors.

/// Adds the framework-independent impls to an adapter's
/// `pub struct InboxWebhook(pub Accepted);`: `into_inner`, `answer`,
/// `Deref` to the [`Accepted`](crate::Accepted) outcome, and a
/// crate-private `stored` constructor that logs and counts the answer once,
/// where the event was stored.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_inbox_extractor {
    (InboxWebhook) => {
        impl InboxWebhook {
            /// Wraps what the inbox did with the event, logging and counting
            /// the answer it gets (202 `stored` or 200 `already_stored`).
            pub(crate) fn stored(accepted: $crate::Accepted) -> Self {
                let answer = $crate::protocol_webhooks::Answer::from(accepted.clone());
                answer.log();
                $crate::protocol_webhooks::__private::count_answer(&answer);
                Self(accepted)
            }

            /// Takes what the inbox did.
            #[must_use]
            pub fn into_inner(self) -> $crate::Accepted {
                self.0
            }

            /// The answer the sender gets: 202 for an event stored now, 200
            /// for one the inbox held already.
            #[must_use]
            pub fn answer(&self) -> $crate::protocol_webhooks::Answer {
                $crate::protocol_webhooks::Answer::from(self.0.clone())
            }
        }

        impl ::core::ops::Deref for InboxWebhook {
            type Target = $crate::Accepted;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
    };
}
