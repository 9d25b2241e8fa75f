//! The properties and headers of the messages we publish (attempt, trace context, death reason),
//! and reading them back from a delivery.

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, ShortString};

use crate::envelope::Envelope;

pub(super) const ATTEMPT_HEADER: &str = "x-attempt";
const TRACEPARENT_HEADER: &str = "traceparent";
pub(super) const DEATH_REASON_HEADER: &str = "x-death-reason";

/// Properties of every message we publish: persistent, JSON, identified, with trace context and
/// the delivery attempt in headers.
pub(super) fn properties(envelope: Option<&Envelope>, attempt: u32, death_reason: Option<&str>) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongInt(i32::try_from(attempt).unwrap_or(i32::MAX)));
    if let Some(traceparent) = envelope.and_then(|e| e.traceparent.as_deref()) {
        headers.insert(TRACEPARENT_HEADER.into(), AMQPValue::LongString(traceparent.into()));
    }
    if let Some(reason) = death_reason {
        headers.insert(DEATH_REASON_HEADER.into(), AMQPValue::LongString(reason.into()));
    }
    let mut properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_headers(headers);
    if let Some(envelope) = envelope {
        properties = properties
            .with_message_id(envelope.id.to_string().into())
            .with_timestamp(u64::try_from(envelope.occurred_at.timestamp()).unwrap_or_default());
        if let Ok(kind) = ShortString::try_new(envelope.kind.as_str()) {
            properties = properties.with_type(kind);
        }
    }
    properties
}

fn header<'a>(properties: &'a BasicProperties, name: &str) -> Option<&'a AMQPValue> {
    properties.headers().as_ref()?.inner().get(name)
}

pub(super) fn header_u32(properties: &BasicProperties, name: &str) -> Option<u32> {
    match header(properties, name)? {
        AMQPValue::ShortShortInt(v) => u32::try_from(*v).ok(),
        AMQPValue::ShortShortUInt(v) => Some(u32::from(*v)),
        AMQPValue::ShortInt(v) => u32::try_from(*v).ok(),
        AMQPValue::ShortUInt(v) => Some(u32::from(*v)),
        AMQPValue::LongInt(v) => u32::try_from(*v).ok(),
        AMQPValue::LongUInt(v) => Some(*v),
        AMQPValue::LongLongInt(v) => u32::try_from(*v).ok(),
        _ => None,
    }
}

pub(super) fn header_string(properties: &BasicProperties, name: &str) -> Option<String> {
    match header(properties, name)? {
        AMQPValue::LongString(v) => Some(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        AMQPValue::ShortString(v) => Some(v.as_str().to_owned()),
        _ => None,
    }
}
