//! The instruction profiler on the real kernel: `traplab-profile` boots
//! it in QEMU (icount) with the gdb stub, steps one call, and the profile
//! must agree with the kernel's own clock — each stage's stepped count
//! equals the difference of the call's stamps, up to the instructions
//! that raised an exception (QEMU's icount leaves out an instruction that
//! faults while it executes), and lies within what the run without the
//! stepper measured for the stage. Its stacks must show the path they claim: a trap through
//! the IDT stub and the dispatcher, a null call through none.

use std::path::PathBuf;
use std::process::Command;

use traplab_analyzer::profile as view;
use traplab_harness::build;
use traplab_wire::profile::Profile;
use traplab_workloads::SuiteName;

/// Run `traplab-profile SPEC` on the quick suite into a fresh folder;
/// returns its profiles.
fn profile(spec: &str) -> (PathBuf, Vec<Profile>) {
    let out = std::env::temp_dir().join(format!(
        "traplab-profile-test-{}-{}",
        std::process::id(),
        spec.replace(':', "@")
    ));
    let _ = std::fs::remove_dir_all(&out);
    let kernel = build::kernel(0).expect("building runner-kernel");
    let suite = build::suite(SuiteName::Quick).expect("building the suite image");
    let status = Command::new(env!("CARGO_BIN_EXE_traplab-profile"))
        .arg(spec)
        .arg("--out")
        .arg(&out)
        .arg("--kernel")
        .arg(&kernel)
        .arg("--suite-image")
        .arg(&suite)
        .args(["--samples", "3", "--warmup", "3", "--timeout", "300"])
        .status()
        .expect("running traplab-profile");
    assert!(status.success(), "traplab-profile {spec}: {status}");
    let profiles = view::load(std::slice::from_ref(&out)).expect("reading the profiles");
    (out, profiles)
}

/// What every profile must satisfy, whatever it profiled.
fn check_consistent(p: &Profile, stages: &[&str]) {
    let names: Vec<&str> = p.stages.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(names, stages, "{} {}", p.experiment, p.config);
    assert_eq!(p.mode, "icount");
    assert!(!p.truncated);
    for s in &p.stages {
        assert!(
            s.agrees(),
            "{} {} {}: stepped {} (raised {}), stamps {:?}",
            p.experiment,
            p.config,
            s.stage,
            s.instructions,
            s.exceptions,
            s.stamp_delta
        );
        // An ordinary call: within what the run without the stepper
        // measured for the stage.
        let run = s
            .run
            .expect("the run without the stepper measured the stage");
        let counted = s.stamp_delta.unwrap();
        assert!(
            run.min <= counted && counted <= run.max,
            "{} {} {}: the profiled call took {counted} by its stamps, the run {run:?}",
            p.experiment,
            p.config,
            s.stage
        );
    }
    // Stamps span the stages exactly; every stepped instruction is in
    // exactly one folded stack.
    let staged: u64 = p.stages.iter().map(|s| s.instructions).sum();
    assert_eq!(staged + p.outside_stamps, p.instructions);
    let folded: u64 = p.folded.iter().map(|f| f.instructions).sum();
    assert_eq!(folded, p.instructions);
    let own: u64 = p.functions.iter().map(|f| f.self_instructions).sum();
    assert_eq!(
        own, p.instructions,
        "self counts cover every instruction once"
    );
    for f in &p.functions {
        assert!(f.self_instructions <= f.total_instructions, "{f:?}");
        assert!(f.total_instructions <= p.instructions, "{f:?}");
    }
}

fn function<'a>(p: &'a Profile, name: &str) -> Option<&'a traplab_wire::profile::FunctionCount> {
    p.functions.iter().find(|f| f.function == name)
}

const TRAP_STAGES: [&str; 4] = [
    "call_to_stub",
    "stub_to_handler",
    "handler_to_wasmtime",
    "wasmtime_to_return",
];

#[test]
fn a_page_fault_trap_is_stepped_through_the_stub_and_the_dispatcher_and_agrees_with_the_stamps() {
    let (out, profiles) = profile("trap.oob_load:signals.bt_off");
    let [p] = profiles.as_slice() else {
        panic!("one profile expected, got {}", profiles.len())
    };
    assert_eq!(
        (p.experiment.as_str(), p.config.as_str()),
        ("trap.oob_load", "signals.bt_off")
    );
    check_consistent(p, &TRAP_STAGES);
    // The load that faults (#PF is raised while it executes) is the one
    // instruction the stamps leave out.
    assert_eq!(p.stages[0].exceptions, 1);
    assert_eq!(p.stages[0].stamp_delta, Some(p.stages[0].instructions - 1));
    // The kernel-owned stages run in the stub and the dispatcher ...
    let stub = function(p, "runner_kernel::arch::x86_64::idt::page_fault_handler")
        .expect("the #PF stub ran");
    assert!(stub.self_instructions > 0);
    let dispatch =
        function(p, "runner_kernel::exceptions::handlers::dispatch").expect("the dispatcher ran");
    assert!(dispatch.self_by_stage[1] > 0, "{dispatch:?}");
    // ... under the wasm code that faulted, itself under the runner.
    let jit = p
        .folded
        .iter()
        .find(|f| f.stack.contains("page_fault_handler"))
        .expect("a stack through the #PF stub");
    let outer = jit
        .stack
        .find("traplab_runner_core::wasm::timed_call")
        .unwrap();
    let wasm = jit
        .stack
        .find("[jit code]")
        .expect("the stub runs over wasm code");
    let stub_at = jit.stack.find("page_fault_handler").unwrap();
    assert!(outer < wasm && wasm < stub_at, "{}", jit.stack);

    // The view renders it, agreeing, and draws its flame graph.
    let v = view::build(&profiles, 10);
    assert_eq!(v.disagreements(), 0);
    let svg = view::flame_graph(p, &out.join("flame")).expect("drawing the flame graph");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("<svg") && text.contains("page_fault_handler"));
}

#[test]
fn the_raw_floor_and_a_null_call_are_stepped_too() {
    let (_, profiles) = profile("raw.ud:ring0");
    let [p] = profiles.as_slice() else {
        panic!("one raw.ud profile expected, got {}", profiles.len())
    };
    check_consistent(p, &["call_to_return"]);
    assert!(
        function(
            p,
            "runner_kernel::arch::x86_64::idt::invalid_opcode_handler"
        )
        .is_some()
    );

    let (_, profiles) = profile("call.null:signals.bt_off");
    let [p] = profiles.as_slice() else {
        panic!("one call.null profile expected, got {}", profiles.len())
    };
    check_consistent(p, &["call_to_return"]);
    assert_eq!(p.stages[0].exceptions, 0);
    assert!(
        !p.functions
            .iter()
            .any(|f| f.function.contains("::idt::exception_")),
        "a null call takes no exception"
    );
}
