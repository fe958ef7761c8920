//! Bytes -> UTF-8 -> `topology::from_ron`: never panics, errors have the documented shape; a loaded
//! topology goes through `check`, round-trips through `to_ron` to an equal topology, and derives.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fwtopo_fuzz::load(data));
