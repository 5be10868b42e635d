//! What a module must be before it is compiled into a suite: the workload
//! contract (validation, imports, exports and their types), and wasmtime's
//! errors as `anyhow` errors. Shared by every builder (`compile`,
//! `compute`, `campaign`), so it depends on none of them.

use anyhow::{Context, Result, bail, ensure};
use traplab_suite::test_hooks;
use wasmparser::types::EntityType;
use wasmparser::{ValType, Validator};

#[cfg(doc)]
use crate::catalogue::CONTAIN_WORKLOADS;
use crate::catalogue::EXPORT;

/// Convert a wasmtime error, keeping its chain of causes. Needed because
/// wasmtime 48 has its own error type, and its `anyhow` cargo feature (which
/// would add a `From` impl) is left off rather than changed for every host
/// crate that shares this build.
pub fn into_anyhow(error: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(error.into_boxed_dyn_error())
}

/// Every WAT workload keeps the contract of [`check_exports`] with the one
/// export [`EXPORT`].
pub fn check_contract(wasm: &[u8]) -> Result<()> {
    check_exports(wasm, &[EXPORT])
}

/// The workload contract, checked before compiling so that a module that
/// breaks it fails the build with a precise message instead of failing
/// inside the kernel:
/// - the module validates (with wasmparser's default features);
/// - it imports nothing (the kernel instantiates it with no imports) but
///   the runner's test hooks, `traplab.panic` and `traplab.fault` of type
///   `() -> ()`, which only the test-only [`CONTAIN_WORKLOADS`] use;
/// - each name in `exports` is an exported function of type
///   `(i32, i32) -> i32` (the kernel calls every workload through one
///   `TypedFunc<(i32, i32), i32>`), and it exports no other function (a
///   function nobody lists would never be run or checked); other exports
///   (memory, globals) are allowed;
pub fn check_exports(wasm: &[u8], exports: &[&str]) -> Result<()> {
    let types = Validator::new()
        .validate_all(wasm)
        .context("the module does not validate")?;
    let types = types.as_ref();
    for (module, name, entity) in types.core_imports().into_iter().flatten() {
        let hook = module == test_hooks::MODULE
            && test_hooks::ALL.contains(&name)
            && matches!(entity, EntityType::Func(id)
                if types[id].unwrap_func().params().is_empty()
                    && types[id].unwrap_func().results().is_empty());
        ensure!(
            hook,
            "it imports {module}.{name}; workloads import nothing but the runner's test hooks \
             ({}.{{{}}}, each () -> ())",
            test_hooks::MODULE,
            test_hooks::ALL.join(",")
        );
    }
    let exported: Vec<(&str, EntityType)> = types.core_exports().into_iter().flatten().collect();
    for &export in exports {
        let Some(&(_, entity)) = exported.iter().find(|(name, _)| *name == export) else {
            bail!("it does not export `{export}`");
        };
        let EntityType::Func(id) = entity else {
            bail!("its export `{export}` is not a function");
        };
        let ty = types[id].unwrap_func();
        ensure!(
            ty.params() == [ValType::I32, ValType::I32] && ty.results() == [ValType::I32],
            "its export `{export}` has type {ty}, not (i32, i32) -> i32"
        );
    }
    if let Some((name, _)) = exported
        .iter()
        .find(|(name, entity)| matches!(entity, EntityType::Func(_)) && !exports.contains(name))
    {
        bail!(
            "it exports the function `{name}`, which is not one of its listed exports ({})",
            exports.join(", ")
        );
    }
    Ok(())
}
