//! Campaign specs: the shipped ones parse and cover every injector; a good
//! spec resolves against the suite (golden results equal the native twins'
//! for the campaign's arguments, the divisor table is found); a spec with
//! an unknown target or an invalid field is refused, naming the file and
//! the problem; `build-suite --campaign` writes the resolved campaign into
//! the manifest.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use traplab_injectors::spec::supports;
use traplab_injectors::{InjectorKind, Trigger};
use traplab_suite::Suite;
use traplab_workloads::KERNELS;
use traplab_workloads::campaign::{
    CAMPAIGNS_DIR, SpecFile, load_spec, parse_spec, resolve, spec_path,
};
use traplab_workloads::compute::{build_module, divisor_table, workspace_root};

fn module() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| build_module().unwrap_or_else(|e| panic!("{e:#}")))
}

fn shipped(name: &str) -> PathBuf {
    workspace_root()
        .join(CAMPAIGNS_DIR)
        .join(format!("{name}.toml"))
}

fn scratch_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("campaign_{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write `text` as a spec file and try to load it; the error, in full.
fn load_error(test: &str, text: &str) -> (PathBuf, String) {
    let path = scratch_dir(test).join("spec.toml");
    std::fs::write(&path, text).unwrap();
    let error = load_spec(&path).expect_err("the spec must be refused");
    (path, format!("{error:#}"))
}

const GOOD: &str = r#"
name = "t"
seed = 3
count = 10
targets = ["compute.divmix", "compute.fib"]
args = { "compute.divmix" = [500, 9] }

[[injectors]]
kind = "divisor_zero"
trigger = "sync"
"#;

#[test]
fn the_shipped_specs_parse_and_cover_every_injector_and_trigger() {
    for (name, min, max) in [("default", 10_000, 20_000), ("smoke", 100, 150)] {
        let spec = load_spec(&shipped(name))
            .unwrap_or_else(|e| panic!("{e:#}"))
            .spec;
        assert_eq!(spec.name, name);
        assert!(
            (min..=max).contains(&spec.count),
            "{name}: {} injections",
            spec.count
        );
        let used: BTreeSet<(&str, &str)> = spec
            .injectors
            .iter()
            .map(|i| (i.kind.name(), i.trigger.name()))
            .collect();
        for kind in InjectorKind::ALL {
            for trigger in [Trigger::Sync, Trigger::Async] {
                if supports(kind, trigger) {
                    assert!(
                        used.contains(&(kind.name(), trigger.name())),
                        "{name}: {kind:?} {trigger:?}"
                    );
                }
            }
        }
        assert!(spec.targets.iter().any(|t| t == "compute.divmix"), "{name}");
        // Round-robin over (injector, target) slots: a whole number of
        // rounds gives every pair its share.
        let slots: u32 = (0..spec.injectors.len())
            .map(|i| spec.injectors[i].weight * spec.targets_of(i).len() as u32)
            .sum();
        assert_eq!(spec.count % slots, 0, "{name}");
        // Every target runs with smaller arguments than in the suite.
        for target in &spec.targets {
            let kernel = traplab_compute::native(target).unwrap();
            let args = spec
                .args
                .get(target)
                .expect("every target has campaign args");
            assert!(args[0] < kernel.args[0], "{name}: {target} {args:?}");
        }
    }
}

#[test]
fn bare_names_are_shipped_specs_and_paths_are_paths() {
    assert_eq!(spec_path(Path::new("default")), shipped("default"));
    assert_eq!(spec_path(Path::new("smoke")), shipped("smoke"));
    assert_eq!(spec_path(Path::new("x/y.toml")), PathBuf::from("x/y.toml"));
    assert_eq!(
        spec_path(Path::new("mine.toml")),
        PathBuf::from("mine.toml")
    );
}

#[test]
fn a_good_spec_resolves_with_native_golden_results() {
    let spec = SpecFile {
        path: "good.toml".into(),
        spec: parse_spec(GOOD).unwrap(),
    };
    let campaign =
        resolve(&spec, "default", KERNELS, Some(module())).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(campaign.spec, spec.spec);
    let offset = divisor_table(module())
        .unwrap()
        .expect("the module exports TRAPLAB_DIVISORS");
    let names: Vec<_> = campaign
        .targets
        .iter()
        .map(|t| t.workload.as_str())
        .collect();
    assert_eq!(names, ["compute.divmix", "compute.fib"]);
    for target in &campaign.targets {
        let kernel = traplab_compute::native(&target.workload).unwrap();
        let expected_args = if kernel.name == "compute.divmix" {
            [500, 9]
        } else {
            kernel.args
        };
        assert_eq!(target.args, expected_args, "{}", kernel.name);
        assert_eq!(
            target.golden,
            (kernel.run)(target.args[0], target.args[1]),
            "{}",
            kernel.name
        );
        assert_eq!(target.divisors, Some((offset, 16)), "{}", kernel.name);
    }
    // The suite arguments give the suite's golden result.
    assert_eq!(
        campaign.targets[1].golden,
        traplab_compute::native("compute.fib").unwrap().golden
    );
}

#[test]
fn the_shipped_specs_resolve() {
    for name in ["default", "smoke"] {
        let spec = load_spec(&shipped(name)).unwrap();
        let campaign =
            resolve(&spec, "default", KERNELS, Some(module())).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(campaign.targets.len(), spec.spec.targets.len());
        for target in &campaign.targets {
            let kernel = traplab_compute::native(&target.workload).unwrap();
            assert_eq!(
                target.golden,
                (kernel.run)(target.args[0], target.args[1]),
                "{name}: {}",
                kernel.name
            );
        }
    }
}

#[test]
fn an_unknown_target_is_refused_with_its_name() {
    for target in ["compute.nope", "trap.unreachable"] {
        let text = GOOD.replace("\"compute.fib\"", &format!("{target:?}"));
        let spec = SpecFile {
            path: "bad-target.toml".into(),
            spec: parse_spec(&text).unwrap(),
        };
        let error = format!(
            "{:#}",
            resolve(&spec, "quick", KERNELS, Some(module())).unwrap_err()
        );
        assert!(
            error.starts_with(&format!(
                "campaign spec bad-target.toml: target `{target}` is not a compute workload of the quick suite (choose from compute.fib, "
            )),
            "{error}"
        );
    }
    let text = GOOD.replace("\"compute.fib\"", "\"compute.divmix\"");
    let spec = SpecFile {
        path: "twice.toml".into(),
        spec: parse_spec(&text).unwrap(),
    };
    let error = format!(
        "{:#}",
        resolve(&spec, "default", KERNELS, Some(module())).unwrap_err()
    );
    assert_eq!(
        error,
        "campaign spec twice.toml: target `compute.divmix` is listed twice"
    );
}

#[test]
fn an_invalid_spec_is_refused_naming_the_file_and_the_problem() {
    // validate(): a register flip needs an interrupted context.
    let (path, error) = load_error(
        "sync_register",
        &GOOD.replace(
            "divisor_zero\"\ntrigger = \"sync\"",
            "bit_flip_register\"\ntrigger = \"sync\"",
        ),
    );
    assert_eq!(
        error,
        format!(
            "campaign spec {}: invalid: injectors[0]: bit_flip_register needs an interrupted context; use trigger = \"async\"",
            path.display()
        )
    );
    // Not TOML of the spec: a misspelt field, with its line.
    let (path, error) = load_error("unknown_field", &GOOD.replace("seed = 3", "sed = 3"));
    assert!(
        error.starts_with(&format!("campaign spec {}: ", path.display())),
        "{error}"
    );
    assert!(error.contains("unknown field `sed`"), "{error}");
    assert!(error.contains("line 3"), "{error}");
    // An unknown injector kind.
    let (_, error) = load_error("unknown_kind", &GOOD.replace("divisor_zero", "meteor"));
    assert!(error.contains("unknown variant `meteor`"), "{error}");
    // args for something that is not a target.
    let (_, error) = load_error(
        "stray_args",
        &GOOD.replace("\"compute.divmix\" = [500", "\"compute.lz\" = [500"),
    );
    assert!(
        error.ends_with("invalid: args.compute.lz: not one of the targets"),
        "{error}"
    );
    // An engine configuration that does not exist.
    let (_, error) = load_error("config", &format!("config = \"signals.fast\"\n{GOOD}"));
    assert!(
        error.contains("invalid: config \"signals.fast\": not an engine configuration"),
        "{error}"
    );
    // A missing file.
    let missing = scratch_dir("missing").join("nope.toml");
    let error = format!("{:#}", load_spec(&missing).unwrap_err());
    assert!(
        error.starts_with(&format!(
            "reading the campaign spec {}: ",
            missing.display()
        )),
        "{error}"
    );
}

#[test]
fn build_suite_writes_the_resolved_campaign_into_the_manifest() {
    let dir = scratch_dir("build_suite");
    let out = dir.join("suite.img");
    let output = Command::new(env!("CARGO_BIN_EXE_build-suite"))
        .args(["--suite", "quick", "--campaign", "smoke", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout
            .trim_end()
            .ends_with(" campaign=smoke injections=132 targets=compute.divmix,compute.sieve"),
        "{stdout}"
    );
    let image = std::fs::read(&out).unwrap();
    let suite = Suite::parse(&image).unwrap();
    let campaign = suite
        .manifest
        .campaign
        .expect("the manifest carries the campaign");
    let spec = load_spec(&shipped("smoke")).unwrap().spec;
    assert_eq!(campaign.spec, spec);
    let offset = divisor_table(module()).unwrap().unwrap();
    for target in &campaign.targets {
        let kernel = traplab_compute::native(&target.workload).unwrap();
        assert_eq!(target.args, spec.args[&target.workload]);
        assert_eq!(target.golden, (kernel.run)(target.args[0], target.args[1]));
        assert_eq!(target.divisors, Some((offset, 16)));
        assert!(
            suite
                .manifest
                .workloads
                .iter()
                .any(|w| w.name == target.workload)
        );
    }

    // A spec naming a workload the suite lacks fails the build, naming
    // the spec file and the target, and writes nothing.
    let spec = dir.join("bad.toml");
    std::fs::write(&spec, GOOD.replace("compute.fib", "compute.fft")).unwrap();
    let bad_out = dir.join("bad.img");
    let output = Command::new(env!("CARGO_BIN_EXE_build-suite"))
        .args(["--suite", "quick", "--campaign"])
        .arg(&spec)
        .arg("--out")
        .arg(&bad_out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!(
            "build-suite: campaign spec {}: target `compute.fft` is not a compute workload",
            spec.display()
        )),
        "{stderr}"
    );
    assert!(!bad_out.exists());
}
