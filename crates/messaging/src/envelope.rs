//! The envelope every message travels in, and the typed events inside it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

use crate::trace;

/// One message: routing and tracing metadata around a JSON payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// UUIDv7, so ids sort by creation time; the inbox deduplicates on it.
    pub id: Uuid,
    /// The versioned event type, e.g. `inventory.reserve.v1`; it is also the routing key.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the fact happened (or the command was issued).
    pub occurred_at: DateTime<Utc>,
    /// The order id for everything in the saga.
    pub correlation_id: String,
    /// Id of the message this one answers.
    pub causation_id: Option<Uuid>,
    /// W3C trace context.
    pub traceparent: Option<String>,
    /// The event itself, in the shape of its contract.
    pub payload: serde_json::Value,
}

/// A payload with a stable, versioned type name.
pub trait Event: Serialize + DeserializeOwned + Send + Sync {
    /// The type name, e.g. `inventory.reserve.v1`.
    const TYPE: &'static str;
}

/// Why an envelope could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The payload or envelope could not be serialized.
    #[error("cannot encode message: {0}")]
    Encode(#[source] serde_json::Error),
    /// The bytes or payload are not what the contract says.
    #[error("cannot decode message: {0}")]
    Decode(#[source] serde_json::Error),
    /// The envelope holds another event type than the one asked for.
    #[error("expected a {expected} message, got {actual}")]
    WrongType {
        /// The type asked for.
        expected: &'static str,
        /// The type in the envelope.
        actual: String,
    },
}

impl Envelope {
    /// A new message starting a trace of its own (or continuing none).
    pub fn new<E: Event>(event: &E, correlation_id: impl Into<String>) -> Result<Self, EnvelopeError> {
        Ok(Self {
            id: Uuid::now_v7(),
            kind: E::TYPE.to_owned(),
            occurred_at: Utc::now(),
            correlation_id: correlation_id.into(),
            causation_id: None,
            traceparent: Some(trace::child(None)),
            payload: serde_json::to_value(event).map_err(EnvelopeError::Encode)?,
        })
    }

    /// A message caused by `cause`: same correlation id, `causation_id = cause.id`, and a child
    /// span of the cause's trace, so the whole saga reads as one trace.
    pub fn reply_to<E: Event>(event: &E, cause: &Envelope) -> Result<Self, EnvelopeError> {
        let mut envelope = Self::new(event, cause.correlation_id.clone())?;
        envelope.causation_id = Some(cause.id);
        envelope.traceparent = Some(trace::child(cause.traceparent.as_deref()));
        Ok(envelope)
    }

    /// Replaces the trace context, e.g. with the one of the GraphQL request that caused it.
    #[must_use]
    pub fn with_traceparent(self, traceparent: Option<String>) -> Self {
        Self { traceparent, ..self }
    }

    /// The typed payload; `WrongType` unless `kind == E::TYPE`.
    pub fn decode<E: Event>(&self) -> Result<E, EnvelopeError> {
        if !self.is::<E>() {
            return Err(EnvelopeError::WrongType { expected: E::TYPE, actual: self.kind.clone() });
        }
        E::deserialize(&self.payload).map_err(EnvelopeError::Decode)
    }

    /// Whether this envelope carries an `E`.
    pub fn is<E: Event>(&self) -> bool {
        self.kind == E::TYPE
    }

    /// The wire form (JSON).
    pub fn to_json(&self) -> Result<Vec<u8>, EnvelopeError> {
        serde_json::to_vec(self).map_err(EnvelopeError::Encode)
    }

    /// Parses the wire form.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        serde_json::from_slice(bytes).map_err(EnvelopeError::Decode)
    }
}
