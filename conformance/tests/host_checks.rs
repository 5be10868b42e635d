//! `assert_invalid` and `assert_malformed` decided with the kernel's real
//! engine configuration (`KernelCompiler`, i.e. `compile_config`), on
//! `tests/wast/host_checks.wast`: every refused module passes, the
//! deliberately valid and well-formed ones fail, under both trap modes.

mod common;

use traplab_conformance::{KernelCompiler, convert};
use traplab_suite::Command;

#[test]
fn the_kernel_engine_decides_invalid_and_malformed_modules() {
    let path = common::test_scripts_dir().join("host_checks.wast");
    let text = std::fs::read_to_string(&path).unwrap();
    let compiler = KernelCompiler::new().unwrap();
    let converted = convert(&path.display().to_string(), &text, &mut |wasm, _| {
        compiler.compile(wasm)
    })
    .unwrap();
    let expected = common::expectations("host_checks.wast", &text);
    let mut failing = Vec::new();
    let mut seen = 0;
    for command in &converted.script.commands {
        let Command::HostChecked {
            line,
            directive,
            verdicts,
        } = command
        else {
            panic!("only host checks in this script: {command:?}")
        };
        let want = expected[&("host_checks.wast".to_string(), *line)];
        assert_eq!(verdicts.len(), 2, "line {line}: one verdict per trap mode");
        for v in verdicts {
            assert_eq!(
                v.passed, want,
                "line {line} {directive} {:?}: {}",
                v.trap_mode, v.detail
            );
        }
        if !want {
            failing.push((*line, verdicts[0].detail.clone()));
        }
        seen += 1;
    }
    assert_eq!(seen, expected.len(), "every directive is a host check");
    // The deliberately valid or well-formed modules fail, saying why.
    let details: Vec<&str> = failing.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(
        details,
        [
            "the kernel's engine accepts the module",
            "the quoted text parses (wast crate), and the kernel's engine accepts the module",
            "the kernel's engine accepts the module",
        ]
    );
    // Refusals name the stage and what the refuser said.
    let detail_of = |line: u32| -> String {
        converted
            .script
            .commands
            .iter()
            .find_map(|c| match c {
                Command::HostChecked {
                    line: l, verdicts, ..
                } if *l == line => Some(verdicts[0].detail.clone()),
                _ => None,
            })
            .unwrap()
    };
    let type_mismatch = detail_of(7);
    assert!(
        type_mismatch.starts_with("the kernel's engine refuses it: ")
            && type_mismatch.ends_with("expected \"type mismatch\": the message matches"),
        "{type_mismatch}"
    );
    let name_resolution = detail_of(33);
    assert!(
        name_resolution.starts_with("the text format refuses it (wast crate): "),
        "{name_resolution}"
    );
}
