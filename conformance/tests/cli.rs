//! `traplab-wast` as a user runs it, for the paths that end before a boot:
//! bad input must exit 2 with a message naming the file and line.

use assert_cmd::Command;

fn traplab_wast() -> Command {
    Command::cargo_bin("traplab-wast").unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stderr_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "no table for bad input");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn malformed_script_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "broken.wast",
        "(module (func (export \"f\")))\n\n(assert_return (invoke \"f\") (i32.const 1x))\n",
    );
    let stderr = stderr_of(traplab_wast().arg(&path));
    assert!(
        stderr.contains(&format!("{}:3:", path.display())),
        "{stderr}"
    );
}

#[test]
fn wrong_script_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(&dir, "good.wast", "(module)\n");
    let path = write(
        &dir,
        "wrong.wast",
        "(module (func (export \"f\") (param i32)))\n(invoke \"f\" (f64.const 1))\n",
    );
    let stderr = stderr_of(traplab_wast().arg(&good).arg(&path));
    assert!(
        stderr.contains(&format!(
            "{}:2:2: invoke: \"f\" takes (i32), the script passes (f64)",
            path.display()
        )),
        "{stderr}"
    );
}

#[test]
fn missing_file_exits_2_naming_it() {
    let stderr = stderr_of(traplab_wast().arg("/nonexistent/x.wast"));
    assert!(
        stderr.contains("/nonexistent/x.wast:1:1: cannot read it"),
        "{stderr}"
    );
}

#[test]
fn a_folder_stands_for_its_scripts_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("scripts");
    std::fs::create_dir(&scripts).unwrap();
    // Sorted by name, b.wast is read after a.wast: its error shows both
    // were expanded from the folder (and nothing boots).
    std::fs::write(scripts.join("a.wast"), "(module)\n").unwrap();
    std::fs::write(scripts.join("notes.txt"), "not a script").unwrap();
    let wrong = scripts.join("b.wast");
    std::fs::write(&wrong, "(module)\n(invoke \"missing\")\n").unwrap();
    let stderr = stderr_of(traplab_wast().arg(&scripts));
    assert!(
        stderr.contains(&format!(
            "{}:2:2: invoke: the module at line 1 exports no \"missing\"",
            wrong.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_folder_without_scripts_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = stderr_of(traplab_wast().arg(dir.path()));
    assert!(
        stderr.contains(&format!(
            "{}:1:1: the folder holds no *.wast script",
            dir.path().display()
        )),
        "{stderr}"
    );
}

#[test]
fn no_file_is_a_usage_error() {
    let out = traplab_wast().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<FILE|DIR>..."));
}

#[test]
fn help_explains_the_table_and_exit_status() {
    let out = traplab_wast().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "N passed, M failed, K unsupported",
        "--profile",
        "--capture",
        "--timeout",
        "Exit status",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}
