//! One page of a ListObjects listing, computed from a bucket's ordered key index.
//!
//! Both backends keep a `BTreeMap` from key to metadata per bucket (the memory store of
//! `ObjectMeta`, the disk store of compact entries); `str`'s `Ord` is byte order of the
//! UTF-8 encoding, which is the order S3 lists in. This module is the
//! only place the listing rules live, so the two backends cannot disagree:
//!
//! - only keys beginning with `prefix`, strictly after `start_after`;
//! - with a delimiter, a key whose remainder (after the prefix) contains it is rolled up
//!   into the common prefix `prefix + remainder up to and including the delimiter`; a
//!   common prefix counts as **one** entry toward `max_keys`, and is returned only when it
//!   sorts after `start_after` (so a page that ended on a common prefix continues after
//!   all of its keys);
//! - the keys of a rolled-up prefix are jumped over with one `BTreeMap::range` seek to the
//!   first string past the prefix, never visited one by one;
//! - `is_truncated` says whether one more entry exists; `last` is the last key or common
//!   prefix returned (the next page's `start_after`).
//!
//! See <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::ops::Bound;

use super::{ListPage, ListQuery, ObjectMeta};

/// One entry of a listing, before the `max_keys` cut.
enum Entry<'a, V> {
    Object(&'a str, &'a V),
    /// A common prefix to return, and where the scan resumes (`None`: nothing can follow).
    Prefix(&'a str, Option<String>),
    /// A common prefix at or before `start_after`: skipped, the scan resumes after it.
    Skip(Option<String>),
}

/// Computes one page of `index` for `query`.
pub fn list_page(index: &BTreeMap<String, ObjectMeta>, query: &ListQuery<'_>) -> ListPage {
    list_page_with(index, query, |_, meta| meta.clone())
}

/// [`list_page`] for an index that stores something else than `ObjectMeta` (the disk
/// store's compact entries): `meta` makes each listed object's metadata.
pub fn list_page_with<K: Borrow<str> + Ord, V>(
    index: &BTreeMap<K, V>,
    query: &ListQuery<'_>,
    meta: impl Fn(&str, &V) -> ObjectMeta,
) -> ListPage {
    let mut page = ListPage::default();
    let mut from = start_bound(query);
    loop {
        let Some(entry) = next_entry(index, query, &from) else {
            return page;
        };
        let resume = match entry {
            Entry::Object(key, value) => {
                if !take(&mut page, query.max_keys) {
                    return page;
                }
                page.objects.push(meta(key, value));
                page.last = Some(key.to_owned());
                Some(Bound::Excluded(key.to_owned()))
            }
            Entry::Prefix(prefix, resume) => {
                if !take(&mut page, query.max_keys) {
                    return page;
                }
                page.common_prefixes.push(prefix.to_owned());
                page.last = Some(prefix.to_owned());
                resume.map(Bound::Included)
            }
            Entry::Skip(resume) => resume.map(Bound::Included),
        };
        match resume {
            Some(bound) => from = bound,
            None => return page,
        }
    }
}

/// Whether the page has room for one more entry; when full, marks it truncated (there is
/// at least this one entry more).
fn take(page: &mut ListPage, max_keys: usize) -> bool {
    let taken = page.objects.len() + page.common_prefixes.len();
    if taken >= max_keys {
        page.is_truncated = true;
        return false;
    }
    true
}

/// Where the scan starts: at the prefix, or just after `start_after` when that is later.
fn start_bound(query: &ListQuery<'_>) -> Bound<String> {
    match query.start_after {
        Some(after) if after >= query.prefix => Bound::Excluded(after.to_owned()),
        _ => Bound::Included(query.prefix.to_owned()),
    }
}

/// The first entry at or after `from`, or `None` when no key with the prefix remains.
fn next_entry<'a, K: Borrow<str> + Ord, V>(
    index: &'a BTreeMap<K, V>,
    query: &ListQuery<'_>,
    from: &Bound<String>,
) -> Option<Entry<'a, V>> {
    let from = from.as_ref().map(String::as_str);
    let (key, value) = index.range::<str, _>((from, Bound::Unbounded)).next()?;
    let key: &str = key.borrow();
    if !key.starts_with(query.prefix) {
        return None;
    }
    let Some(common) = common_prefix(key, query) else {
        return Some(Entry::Object(key, value));
    };
    let resume = successor_of_prefix(common);
    if query.start_after.is_some_and(|after| common <= after) {
        Some(Entry::Skip(resume))
    } else {
        Some(Entry::Prefix(common, resume))
    }
}

/// The common prefix `key` rolls up into, if the query has a delimiter that occurs in
/// the key after the prefix.
fn common_prefix<'k>(key: &'k str, query: &ListQuery<'_>) -> Option<&'k str> {
    let delimiter = query.delimiter.filter(|d| !d.is_empty())?;
    let rest = &key[query.prefix.len()..];
    let at = rest.find(delimiter)?;
    Some(&key[..query.prefix.len() + at + delimiter.len()])
}

/// The smallest string greater than every string that starts with `prefix`, or `None`
/// if there is none (the prefix is all `char::MAX`). UTF-8 byte order is code point
/// order, so bumping the last bumpable character gives that bound.
fn successor_of_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = next_char(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The next Unicode scalar value after `c`, skipping the surrogate gap.
fn next_char(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        char::MAX => None,
        _ => char::from_u32(u32::from(c) + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::ObjectAttrs;
    use time::OffsetDateTime;

    fn index(keys: &[&str]) -> BTreeMap<String, ObjectMeta> {
        keys.iter()
            .map(|k| {
                let meta = ObjectMeta {
                    key: (*k).to_owned(),
                    size: 0,
                    etag: String::new(),
                    last_modified: OffsetDateTime::UNIX_EPOCH,
                    attrs: ObjectAttrs::default(),
                    parts: Vec::new(),
                    part_checksums: Vec::new(),
                };
                ((*k).to_owned(), meta)
            })
            .collect()
    }

    fn query<'a>(
        prefix: &'a str,
        delimiter: Option<&'a str>,
        start_after: Option<&'a str>,
        max_keys: usize,
    ) -> ListQuery<'a> {
        ListQuery {
            prefix,
            delimiter,
            start_after,
            max_keys,
        }
    }

    fn keys(page: &ListPage) -> Vec<&str> {
        page.objects.iter().map(|m| m.key.as_str()).collect()
    }

    #[test]
    fn orders_by_utf8_bytes() {
        let idx = index(&["ab", "a/b", "a-b", "é", "z", "A", "a"]);
        let page = list_page(&idx, &query("", None, None, 1000));
        assert_eq!(keys(&page), ["A", "a", "a-b", "a/b", "ab", "z", "é"]);
        assert!(!page.is_truncated);
        assert_eq!(page.last.as_deref(), Some("é"));
    }

    #[test]
    fn filters_by_prefix_and_start_after() {
        let idx = index(&["a", "b/1", "b/2", "b/3", "c"]);
        let page = list_page(&idx, &query("b/", None, Some("b/1"), 1000));
        assert_eq!(keys(&page), ["b/2", "b/3"]);
        let page = list_page(&idx, &query("b/", None, Some("a"), 1000));
        assert_eq!(keys(&page), ["b/1", "b/2", "b/3"]);
        let page = list_page(&idx, &query("b/", None, Some("c"), 1000));
        assert!(keys(&page).is_empty());
    }

    #[test]
    fn groups_by_delimiter_counting_a_prefix_once() {
        let idx = index(&["a", "d/1", "d/2", "d/3", "e", "f/x/y"]);
        let page = list_page(&idx, &query("", Some("/"), None, 3));
        assert_eq!(keys(&page), ["a", "e"]);
        assert_eq!(page.common_prefixes, ["d/"]);
        assert!(page.is_truncated);
        assert_eq!(page.last.as_deref(), Some("e"));
        let next = list_page(&idx, &query("", Some("/"), page.last.as_deref(), 3));
        assert_eq!(next.common_prefixes, ["f/"]);
        assert!(!next.is_truncated);
    }

    #[test]
    fn a_page_ending_on_a_prefix_continues_after_all_its_keys() {
        let idx = index(&["d/1", "d/2", "e"]);
        let page = list_page(&idx, &query("", Some("/"), None, 1));
        assert_eq!(page.common_prefixes, ["d/"]);
        assert!(page.is_truncated);
        let next = list_page(&idx, &query("", Some("/"), Some("d/"), 1));
        assert_eq!(keys(&next), ["e"]);
        assert!(next.common_prefixes.is_empty());
        assert!(!next.is_truncated);
    }

    #[test]
    fn start_after_inside_a_prefix_skips_that_prefix() {
        let idx = index(&["d/1", "d/2", "d/3", "e"]);
        let page = list_page(&idx, &query("", Some("/"), Some("d/1"), 10));
        assert!(page.common_prefixes.is_empty());
        assert_eq!(keys(&page), ["e"]);
        // A start_after before the prefix itself keeps it.
        let page = list_page(&idx, &query("", Some("/"), Some("d"), 10));
        assert_eq!(page.common_prefixes, ["d/"]);
    }

    #[test]
    fn nested_prefix_and_multi_character_delimiter() {
        let idx = index(&["p/a::1", "p/a::2", "p/b", "p::c", "q"]);
        let page = list_page(&idx, &query("p/", Some("::"), None, 10));
        assert_eq!(page.common_prefixes, ["p/a::"]);
        assert_eq!(keys(&page), ["p/b"]);
    }

    #[test]
    fn a_key_equal_to_the_prefix_is_an_object() {
        let idx = index(&["a/", "a/b/c"]);
        let page = list_page(&idx, &query("a/", Some("/"), None, 10));
        assert_eq!(keys(&page), ["a/"]);
        assert_eq!(page.common_prefixes, ["a/b/"]);
    }

    #[test]
    fn max_keys_zero_returns_nothing_but_says_if_anything_matched() {
        let idx = index(&["a", "b"]);
        let page = list_page(&idx, &query("", None, None, 0));
        assert!(page.objects.is_empty() && page.common_prefixes.is_empty());
        assert!(page.is_truncated);
        assert_eq!(page.last, None);
        let page = list_page(&idx, &query("x", None, None, 0));
        assert!(!page.is_truncated);
    }

    #[test]
    fn exact_fit_is_not_truncated() {
        let idx = index(&["a", "b"]);
        let page = list_page(&idx, &query("", None, None, 2));
        assert_eq!(keys(&page), ["a", "b"]);
        assert!(!page.is_truncated);
    }

    #[test]
    fn unicode_prefixes_roll_up_and_skip() {
        let max = char::MAX.to_string();
        let k1 = format!("{max}/1");
        let k2 = format!("{max}/2");
        let idx = index(&["é/1", "é/2", "éa", "\u{D7FF}/x", "\u{E000}", &k1, &k2]);
        let page = list_page(&idx, &query("", Some("/"), None, 100));
        assert_eq!(
            page.common_prefixes,
            ["é/", "\u{D7FF}/", format!("{max}/").as_str()]
        );
        assert_eq!(keys(&page), ["éa", "\u{E000}"]);
    }

    /// The rules written the slow, obvious way: visit every key.
    fn naive(keys: &[String], q: &ListQuery<'_>) -> (Vec<String>, Vec<String>, bool) {
        let mut entries: Vec<(String, bool)> = Vec::new();
        for key in keys.iter().filter(|k| k.starts_with(q.prefix)) {
            let entry = match common_prefix(key, q) {
                Some(cp) => (cp.to_owned(), true),
                None => (key.clone(), false),
            };
            let after = q.start_after.is_none_or(|a| entry.0.as_str() > a);
            if after && entries.last() != Some(&entry) {
                entries.push(entry);
            }
        }
        let truncated = entries.len() > q.max_keys;
        entries.truncate(q.max_keys);
        let (prefixes, objects): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| e.1);
        let names = |v: Vec<(String, bool)>| v.into_iter().map(|e| e.0).collect();
        (names(objects), names(prefixes), truncated)
    }

    proptest::proptest! {
        #[test]
        fn matches_the_naive_listing(
            keys in proptest::collection::btree_set("[ab/é-]{0,5}", 0..30),
            prefix in "[ab/]{0,2}",
            delimiter in proptest::option::of(proptest::sample::select(vec!["/", "b", "é", "a/"])),
            start_after in proptest::option::of("[ab/é-]{0,4}"),
            max_keys in 0usize..8,
        ) {
            let keys: Vec<String> = keys.into_iter().collect();
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let q = query(&prefix, delimiter, start_after.as_deref(), max_keys);
            let page = list_page(&index(&refs), &q);
            let (objects, prefixes, truncated) = naive(&keys, &q);
            proptest::prop_assert_eq!(keys_of(&page), objects);
            proptest::prop_assert_eq!(&page.common_prefixes, &prefixes);
            proptest::prop_assert_eq!(page.is_truncated, truncated);
        }
    }

    fn keys_of(page: &ListPage) -> Vec<String> {
        page.objects.iter().map(|m| m.key.clone()).collect()
    }

    #[test]
    fn successor_bounds_every_extension() {
        assert_eq!(successor_of_prefix("a/").as_deref(), Some("a0"));
        assert_eq!(successor_of_prefix("\u{D7FF}").as_deref(), Some("\u{E000}"));
        let max = char::MAX.to_string();
        assert_eq!(
            successor_of_prefix(&format!("a{max}")).as_deref(),
            Some("b")
        );
        assert_eq!(successor_of_prefix(&max), None);
        assert_eq!(successor_of_prefix(""), None);
    }
}
