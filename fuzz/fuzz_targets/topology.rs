//! Structured: the bytes drive a generator of valid topologies (documentation addresses, roles of
//! the embedded catalog, parameter values of their kinds); each must pass `check`, round-trip, and
//! export like the `export` target. `cargo fuzz fmt topology <input>` prints an input's topology.
#![no_main]

libfuzzer_sys::fuzz_target!(|g: fwtopo_fuzz::Generated| fwtopo_fuzz::topology(g));
