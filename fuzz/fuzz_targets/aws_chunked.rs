#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strict_s3::fuzzing::aws_chunked(data));
