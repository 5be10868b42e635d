//! The traplab host analyzer: ingests the kernel's JSON Lines runs, stores them under results/, and turns them into tables, comparisons across commits, history and paper figures.
//!
//! Data flows `ingest` (bytes → [`ingest::Run`]) → `store` (the `results/`
//! layout) → analyses (`summary`, `compare`, `history`: pure functions over
//! runs, built on `stats`; `jit` for the JIT-performance view; `campaign`
//! for fault-injection campaigns; `peers` for ring 0 vs the Linux peers) → renderers (`view`: each view one
//! serializable tree, JSON its serde form; `table` for
//! text/Markdown/CSV/LaTeX, `plot` for figures) → `cli` (one file per subcommand). The binary
//! `traplab` is a thin wrapper over [`cli::run`].

pub mod campaign;
pub mod cli;
pub mod compare;
pub mod fuzz;
pub mod history;
pub mod ingest;
pub mod jit;
pub mod mode;
pub mod peers;
pub mod plot;
pub mod profile;
pub mod stats;
pub mod store;
pub mod summary;
pub mod synth;
pub mod table;
pub mod view;
pub mod wast;
