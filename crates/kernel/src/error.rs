//! Error codes shared by every subgraph and the rule for what reaches a client.
//!
//! Business outcomes (out of stock, a taken slug) are `userErrors` in mutation payloads and
//! are typed per context. Everything else is a GraphQL error whose `extensions.code` is one of
//! [`ErrorCode`]. Internal failures are logged in full and sent to the client only as
//! `INTERNAL`, with no detail.

use async_graphql::ErrorExtensions;

/// The stable `extensions.code` values of top-level GraphQL errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No valid credentials were presented.
    Unauthenticated,
    /// Credentials are valid but do not allow this.
    Forbidden,
    /// An argument is malformed or out of range.
    BadUserInput,
    /// The addressed object does not exist.
    NotFound,
    /// A dependency (database, cache) is unavailable; retrying later may succeed.
    ServiceUnavailable,
    /// A bug or an unexpected failure; details are in the server log only.
    Internal,
}

impl ErrorCode {
    /// The code as sent in `extensions.code`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::NotFound => "NOT_FOUND",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }

    /// Whether the error's own message may be shown to a client.
    pub const fn is_client_safe(self) -> bool {
        !matches!(self, Self::Internal | Self::ServiceUnavailable)
    }
}

/// A context's error enum: each variant maps to one [`ErrorCode`].
pub trait ServiceError: std::error::Error {
    /// The code this error is reported with.
    fn code(&self) -> ErrorCode;
}

/// One variant of an error enum declared with [`coded_error!`], as the test that every
/// variant is produced reads it.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// Its name.
    pub name: &'static str,
    /// The attributes of its fields, as written (`from` for a variant made by `?`).
    pub field_attributes: &'static str,
    /// Its field types, as written.
    pub fields: &'static str,
}

/// An error enum declared with [`coded_error!`]: its name and variants.
pub trait CodedError: ServiceError {
    /// The enum's name.
    const NAME: &'static str;
    /// Every variant.
    const VARIANTS: &'static [Variant];
}

/// Declares a context's error enum with each variant's [`ErrorCode`] next to it, and
/// implements [`ServiceError`] from them. A code is an `ErrorCode` variant, or `inner` for a
/// variant whose one field is itself a [`ServiceError`] (a store failure keeps its own code):
///
/// ```ignore
/// shop_kernel::coded_error! {
///     /// Everything that can go wrong serving carts.
///     #[derive(Debug, thiserror::Error)]
///     pub enum CartError {
///         /// The caller may not see or change this cart.
///         #[error("this cart belongs to someone else")]
///         Forbidden => Forbidden,
///         /// The store failed.
///         #[error(transparent)]
///         Store(#[from] StoreError) => inner,
///     }
/// }
/// ```
#[macro_export]
macro_rules! coded_error {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident $( ( $( $(#[$field_meta:meta])* $field:ty ),+ $(,)? ) )? => $code:ident
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[$variant_meta])*
                $variant $( ( $( $(#[$field_meta])* $field ),+ ) )?
            ),+
        }

        impl $crate::ServiceError for $name {
            fn code(&self) -> $crate::ErrorCode {
                $(
                    if let ::core::option::Option::Some(code) = $crate::__variant_code!(self, $variant, $code) {
                        return code;
                    }
                )+
                $crate::ErrorCode::Internal
            }
        }

        impl $crate::error::CodedError for $name {
            const NAME: &'static str = stringify!($name);
            const VARIANTS: &'static [$crate::error::Variant] = &[$(
                $crate::error::Variant {
                    name: stringify!($variant),
                    field_attributes: stringify!($( $( $($field_meta)* )+ )?),
                    fields: stringify!($( $( $field ),+ )?),
                }
            ),+];
        }
    };
}

/// Declares a context's `userErrors` type: the enum of its codes (a GraphQL enum, each code
/// documented) and the user error object (`field`, `message`, `code`) with its constructors.
/// Every context declares its own in its `error.rs`, so the shape is one:
///
/// ```ignore
/// shop_kernel::user_errors! {
///     /// Why a cart mutation did not happen.
///     pub enum CartErrorCode {
///         /// A field is missing or malformed.
///         Invalid,
///     }
///     /// A business reason a cart mutation was refused.
///     pub struct CartUserError;
/// }
/// ```
#[macro_export]
macro_rules! user_errors {
    (
        $(#[$code_meta:meta])*
        $code_vis:vis enum $code:ident {
            $( $(#[$variant_meta:meta])* $variant:ident ),+ $(,)?
        }
        $(#[$error_meta:meta])*
        $error_vis:vis struct $error:ident;
    ) => {
        $(#[$code_meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
        $code_vis enum $code {
            $( $(#[$variant_meta])* $variant ),+
        }

        $(#[$error_meta])*
        #[derive(async_graphql::SimpleObject, Clone, Debug, PartialEq, Eq)]
        $error_vis struct $error {
            /// Path to the argument or input field at fault, if one is.
            pub field: ::core::option::Option<::std::vec::Vec<::std::string::String>>,
            /// What is wrong, for people.
            pub message: ::std::string::String,
            /// What is wrong, for programs.
            pub code: $code,
        }

        impl $error {
            /// A user error at `field` (none when empty).
            pub fn new(field: &[&str], message: impl ::core::convert::Into<::std::string::String>, code: $code) -> Self {
                Self::at(field.iter().map(|part| (*part).to_owned()).collect(), message, code)
            }

            /// A user error at a path built at run time (none when empty).
            pub fn at(
                field: ::std::vec::Vec<::std::string::String>,
                message: impl ::core::convert::Into<::std::string::String>,
                code: $code,
            ) -> Self {
                Self { field: (!field.is_empty()).then_some(field), message: message.into(), code }
            }

            /// A field at fault, as parsing input reported it, under `code`.
            pub fn from_field(error: $crate::input::FieldError, code: $code) -> Self {
                Self::at(error.field, error.message, code)
            }
        }
    };
}

/// The code of one variant of a [`coded_error!`] enum, if `$value` is that variant.
#[doc(hidden)]
#[macro_export]
macro_rules! __variant_code {
    ($value:expr, $variant:ident, inner) => {
        match $value {
            Self::$variant { 0: inner, .. } => ::core::option::Option::Some($crate::ServiceError::code(inner)),
            #[allow(unreachable_patterns)]
            _ => ::core::option::Option::None,
        }
    };
    ($value:expr, $variant:ident, $code:ident) => {
        match $value {
            Self::$variant { .. } => ::core::option::Option::Some($crate::ErrorCode::$code),
            #[allow(unreachable_patterns)]
            _ => ::core::option::Option::None,
        }
    };
}

/// A GraphQL error with `extensions.code` and a message meant for the client.
pub fn client_error(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code.as_str()))
}

/// Converts a context's error into a GraphQL error, masking what must not leak.
pub fn to_graphql<E: ServiceError>(error: &E) -> async_graphql::Error {
    let code = error.code();
    if code.is_client_safe() {
        client_error(code, error.to_string())
    } else {
        tracing::error!(error = %error, source = ?std::error::Error::source(error), code = code.as_str(), "request failed");
        let message = match code {
            ErrorCode::ServiceUnavailable => "a dependency is unavailable, try again later",
            _ => "internal error",
        };
        client_error(code, message)
    }
}

/// Guarantees that every error leaving a subgraph has a code and that no resolver error
/// without one leaks its message. Applied to every response by the HTTP handler
/// ([`crate::server`]); a schema extension would do the same but wraps every field resolver,
/// which costs more than the whole rest of a cached list request.
///
/// Resolver errors built with [`client_error`] or [`to_graphql`] pass unchanged. A resolver
/// error without a code is a bug (a raw `?` on some library error): it is logged and sent as
/// `INTERNAL`. Errors outside resolvers (parse, validation, limits) are the client's and keep
/// their message with `GRAPHQL_VALIDATION_FAILED`.
pub fn mask_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        if error.path.is_empty() {
            error.extensions.get_or_insert_with(Default::default).set("code", "GRAPHQL_VALIDATION_FAILED");
        } else {
            tracing::error!(message = %error.message, path = ?error.path, "uncoded resolver error masked");
            error.message = "internal error".to_owned();
            error.extensions.get_or_insert_with(Default::default).set("code", ErrorCode::Internal.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    crate::coded_error! {
        #[derive(Debug, thiserror::Error)]
        enum Sample {
            #[error("connection refused to 10.0.0.7:5432")]
            Database => Internal,
            #[error("no product with id 42")]
            Missing => NotFound,
            #[error(transparent)]
            Wrapped(#[from] crate::store::StoreFailure) => inner,
        }
    }

    #[test]
    fn codes_sit_next_to_their_variants() {
        assert_eq!(Sample::Missing.code(), ErrorCode::NotFound);
        assert_eq!(Sample::from(crate::store::StoreFailure::unavailable("down")).code(), ErrorCode::ServiceUnavailable);
        let wrapped = Sample::VARIANTS.iter().find(|v| v.name == "Wrapped").unwrap();
        assert_eq!((wrapped.field_attributes, wrapped.fields), ("from", "crate::store::StoreFailure"));
        assert_eq!(<Sample as CodedError>::NAME, "Sample");
    }

    fn code_of(error: &async_graphql::Error) -> Option<String> {
        let value = error.extensions.as_ref()?.get("code")?;
        match value {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }

    #[test]
    fn internal_details_are_masked() {
        let error = to_graphql(&Sample::Database);
        assert_eq!(error.message, "internal error");
        assert_eq!(code_of(&error).as_deref(), Some("INTERNAL"));
    }

    #[test]
    fn uncoded_resolver_errors_are_masked_and_validation_errors_coded() {
        let mut response =
            async_graphql::Response::from_errors(vec![async_graphql::ServerError::new("Unknown field \"x\"", None), {
                let mut leaked = async_graphql::ServerError::new("connection refused to 10.0.0.7", None);
                leaked.path = vec![async_graphql::PathSegment::Field("products".into())];
                leaked
            }]);
        mask_errors(&mut response);
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        assert_eq!(json["errors"][0]["message"], "Unknown field \"x\"");
        assert_eq!(json["errors"][1]["extensions"]["code"], "INTERNAL");
        assert_eq!(json["errors"][1]["message"], "internal error");
    }

    #[test]
    fn client_errors_keep_their_message() {
        let error = to_graphql(&Sample::Missing);
        assert_eq!(error.message, "no product with id 42");
        assert_eq!(code_of(&error).as_deref(), Some("NOT_FOUND"));
    }
}
