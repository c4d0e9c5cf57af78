//! Support for the framework adapter crates, not for receivers.
//!
//! Each adapter needs its own `Webhook`, `RawWebhook`, `ClaimedWebhook` and
//! `WebhookRejection`, since a framework's extractor traits can only be
//! implemented there for types of that crate. Each adapter writes those
//! structs itself, with their derives and doc comments; this module adds
//! the methods and impls that are the same in all five, as axum-core's
//! `__impl_deref!` does, so that moving a handler from one framework to
//! another changes nothing but the framework.

/// Adds the framework-independent impls to an adapter's extractor types,
/// named in one call from the crate root
/// (`__impl_extractor!(Webhook, RawWebhook, ClaimedWebhook, WebhookRejection)`)
/// and written by the adapter as:
///
/// - `pub struct Webhook(pub Event);`: `into_inner` and `Deref` to the
///   event;
/// - `pub struct RawWebhook(pub VerifiedBody);`: `into_inner` and `Deref`
///   to the body;
/// - `pub struct ClaimedWebhook(pub ClaimedEvent);`: `into_inner`,
///   `commit`, `release` and `Deref` to the claimed event;
/// - `pub struct WebhookRejection(Answer);`: `answer`, `into_inner`, a
///   crate-private `logged` constructor that writes the answer's log line
///   (the core's `tracing` feature), `method_not_allowed`, `From` the
///   `Answer`, a `Rejection` or an `Unclaimed`, `Display` and `Error`. The
///   response it becomes is the adapter's own.
///
/// The generated method docs name the core's items without links: rustdoc
/// does not resolve links in docs expanded from another crate's macro the
/// same way in every adapter.
///
/// ```
/// use protocol_webhooks::samples::SignedRequest;
/// use protocol_webhooks::{RequestHead, VerifiedBody, WebhookConfig};
///
/// /// A verified body.
/// #[derive(Debug, Clone, PartialEq, Eq)]
/// pub struct RawWebhook(pub VerifiedBody);
/// protocol_webhooks::__impl_extractor!(RawWebhook);
///
/// let config = WebhookConfig::new("whsec_test")?;
/// let request = SignedRequest::new("whsec_test", "{}")?;
/// let head = RequestHead::new(None::<&[u8]>, [request.signature()]);
/// let mut body = config.collect_body(head)?;
/// body.push(request.body())?;
/// let raw = RawWebhook(body.finish()?);
/// assert_eq!(raw.as_bytes(), b"{}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_extractor {
    ($first:ident, $($rest:ident),+ $(,)?) => {
        $crate::__impl_extractor!($first);
        $crate::__impl_extractor!($($rest),+);
    };
    (Webhook) => {
        impl Webhook {
            /// Wraps an event on its way to the handler, counting the
            /// request as accepted (the core's `metrics` feature).
            pub(crate) fn accepted(event: $crate::events::Event) -> Self {
                $crate::__private::count_accepted();
                Self(event)
            }

            /// Takes the event.
            #[must_use]
            pub fn into_inner(self) -> $crate::events::Event {
                self.0
            }
        }

        impl ::core::ops::Deref for Webhook {
            type Target = $crate::events::Event;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
    };

    (RawWebhook) => {
        impl RawWebhook {
            /// Wraps a body on its way to the handler, counting the request
            /// as accepted (the core's `metrics` feature).
            pub(crate) fn accepted(body: $crate::VerifiedBody) -> Self {
                $crate::__private::count_accepted();
                Self(body)
            }

            /// Takes the verified body.
            #[must_use]
            pub fn into_inner(self) -> $crate::VerifiedBody {
                self.0
            }
        }

        impl ::core::ops::Deref for RawWebhook {
            type Target = $crate::VerifiedBody;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
    };

    (ClaimedWebhook) => {
        impl ClaimedWebhook {
            /// Wraps a claimed event on its way to the handler, counting the
            /// request as accepted (the core's `metrics` feature).
            pub(crate) fn accepted(claimed: $crate::dedup::ClaimedEvent) -> Self {
                $crate::__private::count_accepted();
                Self(claimed)
            }

            /// Takes the claimed event, e.g. to split it with
            /// `ClaimedEvent::into_parts`.
            pub fn into_inner(self) -> $crate::dedup::ClaimedEvent {
                self.0
            }

            /// Marks the event done, so later deliveries are answered 200
            /// without running the handler.
            ///
            /// # Errors
            /// As `protocol_webhooks::dedup::ClaimGuard::commit`:
            /// the claim's lease ran out before the commit, or the store
            /// cannot be reached. The handler's work is done by then, so
            /// answer 2xx and log the error.
            pub async fn commit(self) -> ::core::result::Result<(), $crate::dedup::StoreError> {
                self.0.commit().await
            }

            /// Releases the claim and waits for the store to confirm, so the
            /// next delivery runs the handler; dropping the claimed webhook
            /// does the same without waiting.
            ///
            /// # Errors
            /// As `protocol_webhooks::dedup::ClaimGuard::release`:
            /// the store cannot be reached, and the claim then ends with its
            /// lease.
            pub async fn release(self) -> ::core::result::Result<(), $crate::dedup::StoreError> {
                self.0.release().await
            }
        }

        impl ::core::ops::Deref for ClaimedWebhook {
            type Target = $crate::dedup::ClaimedEvent;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
    };

    (WebhookRejection) => {
        impl WebhookRejection {
            /// The answer the request gets instead of the handler's.
            #[must_use]
            pub fn answer(&self) -> &$crate::Answer {
                &self.0
            }

            /// Takes the answer.
            #[must_use]
            pub fn into_inner(self) -> $crate::Answer {
                self.0
            }

            /// Logs and counts the answer once, where it is made, and wraps
            /// it.
            pub(crate) fn logged(answer: impl ::core::convert::Into<$crate::Answer>) -> Self {
                let answer = answer.into();
                answer.log();
                $crate::__private::count_answer(&answer);
                Self(answer)
            }
        }

        impl WebhookRejection {
            /// The answer to another method than `POST` on a webhook route:
            /// 405 with `Allow: POST`, logged. Use it as the route's
            /// fallback, so every framework answers a wrong method alike.
            #[must_use]
            pub fn method_not_allowed() -> Self {
                Self::logged($crate::Rejection::MethodNotAllowed)
            }
        }

        impl ::core::convert::From<$crate::Answer> for WebhookRejection {
            fn from(answer: $crate::Answer) -> Self {
                Self(answer)
            }
        }

        impl ::core::convert::From<$crate::Rejection> for WebhookRejection {
            fn from(rejection: $crate::Rejection) -> Self {
                Self(rejection.into())
            }
        }

        impl ::core::convert::From<$crate::dedup::Unclaimed> for WebhookRejection {
            fn from(unclaimed: $crate::dedup::Unclaimed) -> Self {
                Self(unclaimed.into())
            }
        }

        impl ::core::fmt::Display for WebhookRejection {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0, f)
            }
        }

        /// Transparent: `Display` already shows the answer, so the source
        /// is the answer's own cause.
        impl ::core::error::Error for WebhookRejection {
            fn source(&self) -> ::core::option::Option<&(dyn ::core::error::Error + 'static)> {
                ::core::error::Error::source(&self.0)
            }
        }
    };
}

/// What the expanded impls call, present whether or not the `metrics`
/// feature is on, so that an adapter's code does not depend on it.
#[doc(hidden)]
pub mod __private {
    /// Counts a request whose webhook reaches the handler.
    #[inline]
    pub fn count_accepted() {
        #[cfg(feature = "metrics")]
        crate::metrics::accepted();
    }

    /// Counts a request answered instead of the handler.
    #[inline]
    pub fn count_answer(answer: &crate::Answer) {
        #[cfg(feature = "metrics")]
        crate::metrics::answered(answer);
        #[cfg(not(feature = "metrics"))]
        let _ = answer;
    }
}
