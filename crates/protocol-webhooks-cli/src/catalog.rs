//! `events` and `example`: the documented event types and their samples.

use alloc::collections::BTreeMap;
use std::io::{self, Write as _};

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use protocol_webhooks::events::EventType;
use protocol_webhooks::samples::{sample_body, sample_payload};
use serde_json::value::RawValue;

use crate::error::CliError;

/// The documented types, in a static so their names are `&'static str`, as
/// clap's possible values need.
static KNOWN: [EventType; 15] = EventType::KNOWN;

/// Width of the type column: the longest documented type, `conversation.created`.
pub(crate) const TYPE_WIDTH: usize = 20;

/// Parses one of the 15 documented types. An unknown type is a usage error
/// that lists the valid ones, and `--help` shows each with its description.
pub(crate) fn event_type_parser() -> impl TypedValueParser<Value = EventType> {
    PossibleValuesParser::new(KNOWN.iter().map(|event_type| {
        PossibleValue::new(event_type.as_str()).help(event_type.description().unwrap_or_default())
    }))
    .map(EventType::from)
}

/// Arguments of `example`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Prints the payload that `send --event TYPE` puts in the envelope: \
                        Protocol's documented example object, or for `*.deleted` types only \
                        its id, as deletions may carry."
)]
pub(crate) struct ExampleArgs {
    /// The event type, e.g. message.created
    #[arg(value_name = "TYPE", value_parser = event_type_parser())]
    event_type: EventType,
}

/// Prints each documented type with its one-line description.
pub(crate) fn events() -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    for event_type in &KNOWN {
        let description = event_type.description().unwrap_or_default();
        writeln!(out, "{:<TYPE_WIDTH$}  {description}", event_type.as_str())
            .map_err(CliError::WriteOutput)?;
    }
    Ok(())
}

/// Prints the sample payload of one type.
pub(crate) fn example(args: &ExampleArgs) -> Result<(), CliError> {
    let payload = sample_payload_as_sent(&args.event_type);
    writeln!(io::stdout().lock(), "{payload}").map_err(CliError::WriteOutput)
}

/// The payload exactly as `send` embeds it, taken from the sample body
/// itself so that the two can never disagree.
fn sample_payload_as_sent(event_type: &EventType) -> String {
    let body = sample_body(event_type, "evt_example");
    serde_json::from_slice::<BTreeMap<String, &RawValue>>(&body)
        .ok()
        .and_then(|envelope| envelope.get("payload").map(|raw| raw.get().to_owned()))
        // The bundled samples always parse; the documented object is the
        // next best answer should one ever not.
        .or_else(|| sample_payload(event_type).map(str::to_owned))
        .unwrap_or_else(|| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_samples_carry_only_the_id() {
        let payload = sample_payload_as_sent(&EventType::ContactDeleted);
        let value: serde_json::Value = serde_json::from_str(&payload).expect("json");
        let object = value.as_object().expect("object");
        assert_eq!(object.len(), 1);
        assert!(object["id"].is_string());
    }

    #[test]
    fn other_samples_are_the_documented_object_verbatim() {
        let payload = sample_payload_as_sent(&EventType::MessageCreated);
        let documented = sample_payload(&EventType::MessageCreated).expect("documented");
        assert_eq!(payload, documented.trim_end());
        assert!(
            payload.contains('\u{2019}'),
            "the documented text keeps its ’"
        );
    }

    #[test]
    fn the_type_column_fits_every_type() {
        let widest = KNOWN.iter().map(|t| t.as_str().len()).max();
        assert_eq!(widest, Some(TYPE_WIDTH));
    }
}
