use clap::Parser;
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "x")]
    name: String,
}

#[derive(Serialize, Deserialize, Debug)]
struct Item {
    id: uuid::Uuid,
    name: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let item = Item { id: uuid::Uuid::new_v4(), name: args.name };
    tracing::info!("{}", serde_json::to_string(&item)?);
    let _ = regex::Regex::new("a+")?;
    let _ = ring::digest::digest(&ring::digest::SHA256, b"x");
    let _ = zstd::encode_all(&b"x"[..], 3)?;
    let _ = chrono::Utc::now();
    let _ = url::Url::parse("http://localhost/")?;
    let _: axum::Router = axum::Router::new();
    let _ = rand::random::<u8>();
    let _ = reqwest::Client::new();
    Ok(())
}
