pub fn version() -> &'static str {
    "telemetry 0.3.1"
}
