//! Prints what sign-in and token checks cost on this machine (a benchmark, not a test):
//! argon2id hashing and verification with the shipped parameters, access-token signing, and
//! verification of a token as every subgraph does it per request.
//!
//! `cargo run --release -p shop-users --example credential_costs`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use chrono::Utc;
use shop_kernel::auth::TokenVerifier;
use shop_users::{
    credentials::{self, ARGON2_ITERATIONS, ARGON2_LANES, ARGON2_MEMORY_KIB, TokenIssuer},
    domain::NewUser,
    keys::{SigningKeys, generate_pem},
};

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    format!("p50 {:>9.3?}  p99 {:>9.3?}  ({} runs)", at(0.5), at(0.99), samples.len())
}

fn time<T>(runs: usize, mut work: impl FnMut() -> T) -> String {
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(work());
            start.elapsed()
        })
        .collect();
    percentiles(samples)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("argon2id m={ARGON2_MEMORY_KIB} KiB, t={ARGON2_ITERATIONS}, p={ARGON2_LANES}");
    let hash = credentials::hash_password("correct horse battery staple").unwrap();
    println!("hash password     {}", time(50, || credentials::hash_password("correct horse battery staple").unwrap()));
    println!(
        "verify password   {}",
        time(50, || credentials::verify_password("correct horse battery staple", Some(&hash)))
    );

    let keys = SigningKeys::from_pems(&generate_pem().unwrap(), &[]).unwrap();
    let jwks = keys.jwks().clone();
    let issuer = TokenIssuer::new(keys, "shop-users", "shop", Duration::from_secs(900));
    let user = NewUser::parse("bench@example.com", "Bench", None, "0123456789").unwrap().into_user(hash, Utc::now());
    println!("sign access token {}", time(10_000, || issuer.access_token(&user, Utc::now()).unwrap()));

    let token = issuer.access_token(&user, Utc::now()).unwrap().token;
    let verifier = TokenVerifier::with_keys(&jwks, "shop-users", "shop");
    let mut samples = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let start = Instant::now();
        std::hint::black_box(verifier.verify(&token).await.unwrap());
        samples.push(start.elapsed());
    }
    println!("verify token      {}", percentiles(samples));
}
