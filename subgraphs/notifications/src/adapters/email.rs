//! Email through lettre: SMTP in production, a folder of `.eml` files or memory in
//! development and tests.
//!
//! Every email carries `Message-ID: <notification id@shop>`, so if a crash between sending
//! and recording it makes the worker send a notification again, the copies are recognisably
//! one message (mail clients and servers deduplicate on it).

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
};
use uuid::Uuid;

use super::{Channel, ChannelKind, DeliveryError, Receipt};
use crate::{domain::Recipient, render::RenderedMessage};

/// The domain of every Message-ID.
pub const MESSAGE_ID_DOMAIN: &str = "shop";

/// The Message-ID of notification `id`, angle brackets included.
pub fn message_id(id: Uuid) -> String {
    format!("<{id}@{MESSAGE_ID_DOMAIN}>")
}

/// One email as the memory transport kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    /// The notification it delivered.
    pub notification_id: Uuid,
    /// The `To` address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The `Message-ID` header, angle brackets included.
    pub message_id: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
    /// The whole message as it would go on the wire (RFC 5322).
    pub raw: String,
}

/// The emails sent through the memory transport, shared with whoever wants to read them (the
/// embedded launcher and tests). Clones share the same list.
#[derive(Debug, Clone, Default)]
pub struct MemoryMailbox(Arc<Mutex<Vec<SentMail>>>);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere mid-push of plain data.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MemoryMailbox {
    /// An empty mailbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every email sent so far, oldest first.
    pub fn messages(&self) -> Vec<SentMail> {
        lock(&self.0).clone()
    }

    /// The emails sent to `address`, oldest first.
    pub fn sent_to(&self, address: &str) -> Vec<SentMail> {
        lock(&self.0).iter().filter(|m| m.to.eq_ignore_ascii_case(address)).cloned().collect()
    }

    fn push(&self, mail: SentMail) {
        lock(&self.0).push(mail);
    }
}

/// Where emails go.
#[derive(Clone)]
pub enum EmailTransport {
    /// An SMTP server (production; Mailpit in docker-compose).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `<notification id>.eml` file per email in a folder (the embedded default).
    File(FileOutbox),
    /// A list in memory ([`MemoryMailbox`]).
    Memory(MemoryMailbox),
}

impl std::fmt::Debug for EmailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(_) => f.write_str("Smtp"),
            Self::File(outbox) => f.debug_tuple("File").field(&outbox.dir).finish(),
            Self::Memory(_) => f.write_str("Memory"),
        }
    }
}

/// Why an email transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The SMTP URL is not one lettre understands.
    #[error("invalid SMTP URL: {0}")]
    SmtpUrl(#[source] lettre::transport::smtp::Error),
    /// The mail folder cannot be created.
    #[error("cannot create the mail folder {path}: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The sender address is not an email address.
    #[error("invalid sender address `{0}`")]
    From(String),
}

impl EmailTransport {
    /// An SMTP transport from a URL in lettre's form (`smtp://host:port`,
    /// `smtps://user:pass@host`, `smtp://host:587?tls=required`), with a timeout per command.
    pub fn smtp(url: &str, timeout: Duration) -> Result<Self, TransportError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(TransportError::SmtpUrl)?;
        Ok(Self::Smtp(transport.timeout(Some(timeout)).build()))
    }

    /// A transport writing `<notification id>.eml` files into `dir` (created if missing).
    pub fn file(dir: impl Into<PathBuf>) -> Result<Self, TransportError> {
        FileOutbox::new(dir.into()).map(Self::File)
    }
}

/// Writes each email through lettre's file transport into a staging folder, then renames it
/// to `<notification id>.eml`: lettre names files by an id of its own, and readers of the
/// folder must never see a half-written file.
#[derive(Clone)]
pub struct FileOutbox {
    dir: PathBuf,
    staging: AsyncFileTransport<Tokio1Executor>,
    staging_dir: PathBuf,
}

impl FileOutbox {
    fn new(dir: PathBuf) -> Result<Self, TransportError> {
        let staging_dir = dir.join(".staging");
        std::fs::create_dir_all(&staging_dir)
            .map_err(|source| TransportError::Folder { path: staging_dir.display().to_string(), source })?;
        Ok(Self { staging: AsyncFileTransport::new(&staging_dir), dir, staging_dir })
    }

    /// The file of notification `id`.
    pub fn path_of(&self, id: Uuid) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }

    async fn write(&self, id: Uuid, email: &Message) -> Result<(), DeliveryError> {
        let written = self.staging.send(email.clone()).await.map_err(|error| {
            tracing::error!(%error, dir = %self.staging_dir.display(), "cannot write an email file");
            DeliveryError::Transient("the mail folder cannot be written".into())
        })?;
        let staged = self.staging_dir.join(format!("{written}.eml"));
        tokio::fs::rename(&staged, self.path_of(id)).await.map_err(|error| {
            tracing::error!(%error, from = %staged.display(), "cannot move an email file into place");
            DeliveryError::Transient("the mail folder cannot be written".into())
        })
    }
}

/// Email as a [`Channel`].
#[derive(Debug, Clone)]
pub struct EmailChannel {
    from: Mailbox,
    transport: EmailTransport,
}

impl EmailChannel {
    /// Sends from `from` (e.g. `Shop <orders@shop.local>`) through `transport`.
    pub fn new(from: &str, transport: EmailTransport) -> Result<Self, TransportError> {
        let from = from.parse::<Mailbox>().map_err(|_| TransportError::From(from.to_owned()))?;
        Ok(Self { from, transport })
    }

    /// The memory mailbox, when that is the transport.
    pub fn mailbox(&self) -> Option<&MemoryMailbox> {
        match &self.transport {
            EmailTransport::Memory(mailbox) => Some(mailbox),
            _ => None,
        }
    }

    fn build(&self, recipient: &Recipient, message: &RenderedMessage) -> Result<(Message, Mailbox), DeliveryError> {
        let address = recipient
            .email
            .parse()
            .map_err(|_| DeliveryError::Permanent("the customer's email address is invalid".into()))?;
        let to = Mailbox::new(Some(recipient.name.clone()), address);
        let email = Message::builder()
            .from(self.from.clone())
            .to(to.clone())
            .subject(message.subject.clone())
            .message_id(Some(message_id(message.notification_id)))
            .multipart(MultiPart::alternative_plain_html(message.text.clone(), message.html.clone()))
            .map_err(|error| {
                tracing::error!(%error, "cannot build an email");
                DeliveryError::Permanent("the email could not be built".into())
            })?;
        Ok((email, to))
    }
}

/// What an SMTP failure means for the notification. Server answers stay in the log.
fn smtp_failure(error: &lettre::transport::smtp::Error) -> DeliveryError {
    let code = error.status().map(|code| code.to_string());
    if error.is_permanent() {
        tracing::warn!(%error, "the mail server refused an email permanently");
        let code = code.unwrap_or_else(|| "5xx".into());
        DeliveryError::Permanent(format!("the mail server refused the message ({code})"))
    } else if error.is_transient() {
        tracing::warn!(%error, "the mail server refused an email for now");
        let code = code.unwrap_or_else(|| "4xx".into());
        DeliveryError::Transient(format!("the mail server deferred the message ({code})"))
    } else {
        tracing::warn!(%error, "cannot reach the mail server");
        DeliveryError::Transient("the mail server could not be reached".into())
    }
}

#[async_trait::async_trait]
impl Channel for EmailChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    async fn send(&self, recipient: &Recipient, message: &RenderedMessage) -> Result<Receipt, DeliveryError> {
        let (email, to) = self.build(recipient, message)?;
        let address = to.email.to_string();
        match &self.transport {
            EmailTransport::Smtp(smtp) => {
                smtp.send(email).await.map_err(|error| smtp_failure(&error))?;
            }
            EmailTransport::File(outbox) => outbox.write(message.notification_id, &email).await?,
            EmailTransport::Memory(mailbox) => mailbox.push(SentMail {
                notification_id: message.notification_id,
                to: address.clone(),
                subject: message.subject.clone(),
                message_id: message_id(message.notification_id),
                text: message.text.clone(),
                html: message.html.clone(),
                raw: String::from_utf8_lossy(&email.formatted()).into_owned(),
            }),
        }
        Ok(Receipt { address })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> RenderedMessage {
        RenderedMessage {
            notification_id: Uuid::nil(),
            subject: "Hi".into(),
            text: "plain".into(),
            html: "<p>html</p>".into(),
        }
    }

    #[tokio::test]
    async fn invalid_addresses_fail_permanently() {
        let channel =
            EmailChannel::new("Shop <orders@shop.local>", EmailTransport::Memory(MemoryMailbox::new())).unwrap();
        let recipient = Recipient { user_id: "u".into(), email: "not an address".into(), name: "A".into() };
        let error = channel.send(&recipient, &message()).await.unwrap_err();
        assert!(!error.is_transient());
        assert!(channel.mailbox().unwrap().messages().is_empty());
    }

    #[test]
    fn bad_sender_addresses_are_refused_at_startup() {
        assert!(EmailChannel::new("nobody", EmailTransport::Memory(MemoryMailbox::new())).is_err());
    }
}
