//! The fuzz targets' inputs, replayed without the fuzzer: every file in
//! `fuzz/regressions/<target>/` (inputs that once crashed a wrapper) and in
//! `fuzz/corpus/<target>/` (the hand-made seeds) goes through the same
//! `strict_s3::fuzzing` wrapper the fuzz target calls, so a crash that was fixed stays fixed
//! and the seeds stay meaningful. `fuzz/run.sh` finds new ones.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use strict_s3::fuzzing;

/// Runs `wrapper` over every input of `target`, reporting every one that panics.
fn replay(target: &str, wrapper: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = Vec::new();
    for dir in ["regressions", "corpus"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_file() && !hidden {
                inputs.push(path);
            }
        }
    }
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs for {target}");
    let failed: Vec<String> = inputs
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("readable input");
            catch_unwind(AssertUnwindSafe(|| wrapper(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs panic (messages above):\n  {}",
        failed.len(),
        inputs.len(),
        failed.join("\n  ")
    );
}

#[test]
fn authorization_header() {
    replay("authorization_header", fuzzing::authorization_header);
}

#[test]
fn presigned_query() {
    replay("presigned_query", fuzzing::presigned_query);
}

#[test]
fn http_date() {
    replay("http_date", fuzzing::http_date);
}

#[test]
fn canonical_request() {
    replay("canonical_request", fuzzing::canonical_request);
}

#[test]
fn aws_chunked() {
    replay("aws_chunked", fuzzing::aws_chunked);
}

#[test]
fn post_policy() {
    replay("post_policy", fuzzing::post_policy);
}

#[test]
fn cors_xml_and_match() {
    replay("cors_xml_and_match", fuzzing::cors_xml_and_match);
}

#[test]
fn xml_bodies() {
    replay("xml_bodies", fuzzing::xml_bodies);
}

#[test]
fn range_and_conditionals() {
    replay("range_and_conditionals", fuzzing::range_and_conditionals);
}

#[test]
fn key_mapping() {
    replay("key_mapping", fuzzing::key_mapping);
}
