//! Time the compute kernels on this (Linux) host: each native twin and its
//! wasm export on upstream wasmtime, under both trap modes, with the same
//! `engine_config` the kernel uses. The host reference for the kernel's
//! wasm/native figures.
//!
//! ```text
//! cargo run --release -p traplab-workloads --example compute_host -- [--calls N] [--only NAME] [--mode signals|explicit|native]
//! ```
//!
//! Prints one line per kernel: median ns per call natively and under each
//! trap mode, and the wasm/native ratios. `--only fib --mode explicit
//! --calls 1` runs a single call, for counting instructions with
//! `valgrind --tool=callgrind --smc-check=all` (explicit mode: its small
//! memory reservation suits valgrind).

use std::time::Instant;

use anyhow::{Context, Result, bail};
use traplab_suite::{EngineVariant, TrapMode, engine_config};
use traplab_workloads::KERNELS;
use traplab_workloads::compute::build_module;
use traplab_workloads::contract::into_anyhow;
use wasmtime::{Engine, Instance, Module, Store};

struct Options {
    calls: usize,
    only: Option<String>,
    mode: Option<String>,
}

fn options() -> Result<Options> {
    let mut options = Options {
        calls: 31,
        only: None,
        mode: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--calls" => options.calls = value()?.parse().context("--calls")?,
            "--only" => options.only = Some(value()?),
            "--mode" => options.mode = Some(value()?),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(options)
}

fn median(mut samples: Vec<u128>) -> u128 {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or(0)
}

fn main() -> Result<()> {
    let options = options()?;
    let wasm = build_module()?;
    let wants = |mode: &str| options.mode.as_deref().is_none_or(|m| m == mode);
    let mut engines = Vec::new();
    for trap_mode in TrapMode::ALL {
        if wants(trap_mode.name()) {
            let engine = Engine::new(&engine_config(EngineVariant {
                trap_mode,
                backtrace: false,
            }))
            .map_err(into_anyhow)?;
            let module = Module::new(&engine, &wasm).map_err(into_anyhow)?;
            engines.push((trap_mode, engine, module));
        }
    }
    println!(
        "{:<20} {:>12} {:>12} {:>12} {:>8} {:>8}",
        "kernel", "native ns", "signals ns", "explicit ns", "sig/nat", "exp/nat"
    );
    for kernel in KERNELS {
        if options
            .only
            .as_deref()
            .is_some_and(|o| o != kernel.export && o != kernel.name)
        {
            continue;
        }
        let (a, b) = (kernel.args[0], kernel.args[1]);
        let mut native = 0;
        if wants("native") {
            let samples = (0..options.calls)
                .map(|_| {
                    let start = Instant::now();
                    let value = (kernel.run)(std::hint::black_box(a), std::hint::black_box(b));
                    let elapsed = start.elapsed().as_nanos();
                    assert_eq!(value, kernel.golden, "{} natively", kernel.name);
                    elapsed
                })
                .collect();
            native = median(samples);
        }
        let mut wasm_ns = [0u128; 2];
        for (trap_mode, engine, module) in &engines {
            let mut store = Store::new(engine, ());
            let instance = Instance::new(&mut store, module, &[]).map_err(into_anyhow)?;
            let func = instance
                .get_typed_func::<(i32, i32), i32>(&mut store, kernel.export)
                .map_err(into_anyhow)?;
            let samples = (0..options.calls)
                .map(|_| {
                    let start = Instant::now();
                    let value = func.call(&mut store, (a, b)).map_err(into_anyhow)?;
                    let elapsed = start.elapsed().as_nanos();
                    if value != kernel.golden {
                        bail!(
                            "{} under {} returned {value}",
                            kernel.name,
                            trap_mode.name()
                        );
                    }
                    Ok(elapsed)
                })
                .collect::<Result<Vec<_>>>()?;
            wasm_ns[usize::from(*trap_mode == TrapMode::Explicit)] = median(samples);
        }
        let ratio = |ns: u128| {
            if native == 0 || ns == 0 {
                String::from("-")
            } else {
                format!("{:.2}", ns as f64 / native as f64)
            }
        };
        println!(
            "{:<20} {:>12} {:>12} {:>12} {:>8} {:>8}",
            kernel.name,
            native,
            wasm_ns[0],
            wasm_ns[1],
            ratio(wasm_ns[0]),
            ratio(wasm_ns[1])
        );
    }
    Ok(())
}
