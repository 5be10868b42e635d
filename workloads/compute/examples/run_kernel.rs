//! Run one compute kernel natively, `times` times, and print its result:
//! a probe for instruction counts and timings of the native twins.
//!
//! ```text
//! cargo run --release -p traplab-compute --example run_kernel -- fib [times] [a b]
//! valgrind --tool=callgrind target/release/examples/run_kernel fib 0   # startup cost
//! valgrind --tool=callgrind target/release/examples/run_kernel fib 1   # + one call
//! ```

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(kernel) = args.first().and_then(|name| traplab_compute::native(name)) else {
        let names: Vec<_> = traplab_compute::KERNELS.iter().map(|k| k.export).collect();
        eprintln!("usage: run_kernel <{}> [times] [a b]", names.join("|"));
        return ExitCode::FAILURE;
    };
    let number = |i: usize, default: i64| args.get(i).map_or(Ok(default), |s| s.parse::<i64>());
    let (Ok(times), Ok(a), Ok(b)) = (
        number(1, 1),
        number(2, kernel.args[0].into()),
        number(3, kernel.args[1].into()),
    ) else {
        eprintln!("run_kernel: times, a and b must be integers");
        return ExitCode::FAILURE;
    };
    let (a, b) = (a as i32, b as i32);
    let start = Instant::now();
    let mut result = None;
    for _ in 0..times {
        result = Some((kernel.run)(
            std::hint::black_box(a),
            std::hint::black_box(b),
        ));
    }
    let elapsed = start.elapsed();
    match result {
        Some(value) => println!(
            "{} ({a}, {b}) = {value} (golden {}), {times} call(s), {:?} per call",
            kernel.name,
            kernel.golden,
            elapsed / times.max(1) as u32
        ),
        None => println!("{}: no call", kernel.name),
    }
    ExitCode::SUCCESS
}
