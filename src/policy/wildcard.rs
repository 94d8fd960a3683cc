//! IAM's wildcard matching: `*` matches any run of characters (none included), `?`
//! exactly one. Actions compare case-insensitively, resources and `StringLike` values
//! case-sensitively (IAM "Action" and "Resource" element pages).

/// Whether `text` matches `pattern`. Iterative with one backtrack point, so a hostile
/// pattern of many `*` costs O(len(pattern) × len(text)) at worst, never exponential.
pub fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        // The common case (actions, ARNs of ASCII keys): bytes, no allocation.
        let eq = |a: u8, b: u8| {
            if ignore_case {
                a.eq_ignore_ascii_case(&b)
            } else {
                a == b
            }
        };
        return match_with(pattern.as_bytes(), text.as_bytes(), b'*', b'?', eq);
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    match_with(&p, &t, '*', '?', eq)
}

/// The matcher over characters (`char`, or bytes when both sides are ASCII).
fn match_with<C: Copy + PartialEq>(
    p: &[C],
    t: &[C],
    any: C,
    one: C,
    eq: impl Fn(C, C) -> bool,
) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || (p[pi] != any && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == any)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("s3:Get*", "s3:GetObject", false));
        assert!(matches("s3:get*", "s3:GetObject", true));
        assert!(!matches("s3:get*", "s3:GetObject", false));
        assert!(matches("arn:aws:s3:::bkt/*", "arn:aws:s3:::bkt/a/b", false));
        assert!(!matches("arn:aws:s3:::bkt/*", "arn:aws:s3:::bkt", false));
        assert!(matches("arn:aws:s3:::bkt*", "arn:aws:s3:::bkt", false));
        assert!(matches("a?c", "abc", false));
        assert!(!matches("a?c", "ac", false));
        assert!(matches("*", "", false));
        assert!(matches("*a*b*c*", "xxaxxbxxcxx", false));
        assert!(!matches("*a*b*c*", "xxaxxcxxbxx", false));
        assert!(matches("user/${x}", "user/${x}", false));
        // `?` is one character, also outside ASCII.
        assert!(matches(
            "arn:aws:s3:::b/caf?",
            "arn:aws:s3:::b/caf\u{e9}",
            false
        ));
        assert!(matches("s3:GETOBJECT", "s3:GetObject", true));
        // Many stars against a long text stay fast (no exponential backtracking).
        let long = "a".repeat(10_000);
        assert!(!matches(&format!("{}b", "*a".repeat(50)), &long, false));
    }
}
