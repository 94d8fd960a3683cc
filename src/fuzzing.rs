//! Entry points for the fuzz targets (`fuzz/`) and property tests: thin wrappers over the
//! parsers a request reaches, so the fuzzers drive the same code the server runs. Not part
//! of the supported API.
