//! `WebhookConfig::verify_event` on arbitrary secrets, limits, headers and
//! bodies: size first, then signature, then parsing, so a body that is not
//! correctly signed is never parsed, and a correctly signed body within the
//! limit gives exactly what `Event::from_slice` gives.

#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol_webhooks::events::Event;
use protocol_webhooks::{Answer, KeyError, Rejection, SignatureError, WebhookConfig};
use protocol_webhooks_fuzz::{
    HeaderChoice, VerifyThenParseInput, check_rejection_body, is_64_hex_digits,
};

fuzz_target!(|input: VerifyThenParseInput<'_>| {
    let config = match WebhookConfig::new(input.secret) {
        Ok(config) => config,
        Err(error) => {
            assert!(input.secret.is_empty(), "refused a non-empty secret");
            assert_eq!(error, KeyError::EmptySecret);
            return;
        }
    };
    let limit = input.body_limit();
    let config = if input.small_limit.is_some() {
        config.with_body_limit(limit)
    } else {
        config
    };
    assert_eq!(config.body_limit(), limit);

    let correct = config.keys()[0].sign(input.body).to_hex();
    let correct = correct.as_str();
    let upper = correct.to_ascii_uppercase();
    let header: Option<&[u8]> = match input.header_choice {
        HeaderChoice::CorrectLower => Some(correct.as_bytes()),
        HeaderChoice::CorrectUpper => Some(upper.as_bytes()),
        HeaderChoice::Missing => None,
        HeaderChoice::Given => Some(input.header),
    };
    let signed = header.is_some_and(|value| value.eq_ignore_ascii_case(correct.as_bytes()));

    if let Err(rejection) = config.verify_event(input.body, header) {
        let rejection = Answer::from(rejection);
        check_rejection_body(&rejection);
        let answer = format!("{rejection} {rejection:?} {}", rejection.body());
        assert!(
            !answer.contains(correct) && !answer.contains(&upper),
            "a rejection shows the expected signature: {answer}"
        );
    }

    let outcome = config.verify_event(input.body, header);

    if input.body.len() > limit {
        assert!(
            matches!(outcome, Err(Rejection::PayloadTooLarge { limit: reported }) if reported == limit),
            "over the limit of {limit}: {outcome:?}"
        );
        return;
    }
    if !signed {
        let expected = match header {
            None => SignatureError::Missing,
            Some(value) if !is_64_hex_digits(value) => SignatureError::Malformed,
            Some(_) => SignatureError::Mismatch,
        };
        assert!(
            matches!(outcome, Err(Rejection::Signature(error)) if error == expected),
            "unsigned body: expected {expected:?}, got {outcome:?}"
        );
        return;
    }
    match (outcome, Event::from_slice(input.body)) {
        (Ok(event), Ok(reference)) => assert_eq!(event, reference),
        (Err(Rejection::InvalidEvent(error)), Err(reference)) => {
            assert_eq!(error, reference);
        }
        (outcome, reference) => {
            panic!("signed body within the limit: {outcome:?}, but from_slice gives {reference:?}")
        }
    }
});
