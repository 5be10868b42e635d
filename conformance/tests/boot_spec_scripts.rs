//! Boots the shipped core spec scripts (`scripts/spec/`, WebAssembly 2.0,
//! unmodified) in the real kernel under QEMU (TCG): every command the
//! kernel's engine can take passes under both trap modes, and the only
//! unsupported commands are the ones that need `externref` (wasmtime
//! manages it with its GC, which the kernel's engine leaves off:
//! `gc_support(false)`) and the commands that use those modules.

use std::collections::BTreeMap;
use std::time::Duration;

use traplab_conformance::table::CONFIGS;
use traplab_conformance::{boot, collate, compile, expand_script_paths, shipped_scripts_dir};
use traplab_harness::{Ending, build};
use traplab_suite::Command;

#[test]
fn spec_scripts_pass_except_what_needs_the_gc() {
    let kernel = build::kernel(0).expect("building runner-kernel");
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("wast.img");
    let capture = dir.path().join("wast.jsonl");
    let paths = expand_script_paths(&[shipped_scripts_dir().join("spec")]).unwrap();
    let scripts = compile::build_image(&paths, &image).expect("the spec scripts compile");
    let run = boot::boot(
        &kernel,
        &image,
        "tcg",
        &capture,
        Duration::from_secs(300),
        false,
    )
    .expect("running QEMU");
    assert!(run.damaged.is_empty(), "{:?}", run.damaged);
    let manifest: Vec<_> = scripts.iter().map(|s| s.script.clone()).collect();
    let collation = collate(&manifest, &run.records);
    assert_eq!(
        run.report.ending,
        Ending::Success,
        "{:?}\n{}",
        run.report,
        collation.render()
    );

    // Unsupported commands per script: the externref modules (br_table.wast
    // line 3, linking.wast lines 96 and 291) and every use of them.
    let mut unsupported: BTreeMap<&str, usize> = BTreeMap::new();
    for script in &manifest {
        for command in &script.commands {
            if let Command::Unsupported { what, .. } = command {
                assert!(
                    what.contains("gc types are disallowed") || what.contains("which is not run"),
                    "{}: {what}",
                    script.name
                );
                *unsupported.entry(script.name.as_str()).or_default() += 1;
            }
        }
    }
    assert_eq!(
        unsupported,
        BTreeMap::from([("br_table.wast", 150), ("linking.wast", 12)])
    );
    let totals = collation.totals();
    assert_eq!(totals.failed, 0, "{}", collation.render());
    assert_eq!(totals.unsupported, 162 * CONFIGS.len() as u64);
    assert_eq!(totals.passed, 2228);
}
