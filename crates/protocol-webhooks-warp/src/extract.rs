//! What the filters extract: a verified event, a verified and claimed event,
//! or a verified raw body.

/// A webhook whose size and signature were checked and whose body parsed as
/// an [`Event`](crate::Event): what [`webhook`](crate::webhook) extracts.
///
/// Destructure it in a handler's arguments and `match` on `event.payload`.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook(pub crate::Event);

/// A verified, parsed webhook whose event id this delivery claimed: what
/// [`claimed_webhook`](crate::claimed_webhook) extracts.
///
/// It dereferences to the [`ClaimedEvent`](crate::ClaimedEvent), which
/// dereferences to the [`Event`](crate::Event), so `claimed.id` and
/// `claimed.payload` work as with [`Webhook`]. Once the handler's work
/// succeeded, call [`commit`](Self::commit): later deliveries of the event
/// are then answered 200 without running the handler. Dropped uncommitted — the handler
/// returned an error or a rejection, panicked, or the request was dropped —
/// it releases the claim, so the sender's next delivery runs the handler.
#[derive(Debug)]
#[must_use = "dropping the claimed webhook releases the claim: commit it once the handler succeeded"]
pub struct ClaimedWebhook(pub crate::ClaimedEvent);

/// A webhook body whose size and signature were checked, not parsed: what
/// [`raw_webhook`](crate::raw_webhook) extracts.
///
/// For receivers that store or enqueue the exact bytes and parse them later
/// with [`VerifiedBody::parse`](crate::VerifiedBody::parse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWebhook(pub crate::VerifiedBody);
