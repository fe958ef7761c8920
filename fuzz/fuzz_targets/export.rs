//! Bytes -> `topology::from_ron` -> `engine::derive` -> every target renders every node under both
//! egress modes; the outputs of topologies that pass `check` must pass the snapshot tests' grammars.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fwtopo_fuzz::export(data));
