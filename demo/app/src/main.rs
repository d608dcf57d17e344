use quick_derive::Describe;

#[derive(Describe)]
struct Config;

fn main() {
    println!(
        "{} {} {}",
        Config::describe(),
        telemetry_sys::version(),
        plain_util::BUILT_WITH
    );
}
