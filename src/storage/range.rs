//! `Range: bytes=…`, as S3 reads it.

use crate::error::{S3Error, S3ErrorCode};

/// A `Range: bytes=…` request as parsed, before the object's size is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=a-b`
    FromTo(u64, u64),
    /// `bytes=a-`
    From(u64),
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a single `bytes=` range. S3 ignores a Range header it cannot parse (and
    /// multi-range requests), serving the whole object, so `None` means "no range".
    /// See <https://www.rfc-editor.org/rfc/rfc9110#section-14.2>.
    pub fn parse(header: &str) -> Option<ByteRange> {
        let spec = header.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        let num = |s: &str| -> Option<u64> {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                None
            } else {
                s.parse().ok()
            }
        };
        match (a.is_empty(), b.is_empty()) {
            (true, false) => num(b).map(ByteRange::Suffix),
            (false, true) => num(a).map(ByteRange::From),
            (false, false) => {
                let (a, b) = (num(a)?, num(b)?);
                (a <= b).then_some(ByteRange::FromTo(a, b))
            }
            (true, true) => None,
        }
    }

    /// The inclusive byte span within an object of `size` bytes, or `InvalidRange` (416)
    /// when nothing of it is satisfiable.
    pub fn resolve(self, size: u64) -> Result<(u64, u64), S3Error> {
        let span = match self {
            ByteRange::FromTo(a, b) if a < size => Some((a, b.min(size - 1))),
            ByteRange::From(a) if a < size => Some((a, size - 1)),
            ByteRange::Suffix(n) if n > 0 && size > 0 => Some((size - n.min(size), size - 1)),
            _ => None,
        };
        span.ok_or_else(|| {
            S3Error::new(S3ErrorCode::InvalidRange)
                .extra("RangeRequested", self.to_string())
                .extra("ActualObjectSize", size.to_string())
                .reason(format!("the object is {size} bytes long"))
        })
    }
}

impl std::fmt::Display for ByteRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ByteRange::FromTo(a, b) => write!(f, "bytes={a}-{b}"),
            ByteRange::From(a) => write!(f, "bytes={a}-"),
            ByteRange::Suffix(n) => write!(f, "bytes=-{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves_ranges_like_s3() {
        let r = |s| ByteRange::parse(s);
        assert_eq!(r("bytes=0-9"), Some(ByteRange::FromTo(0, 9)));
        assert_eq!(r("bytes=5-"), Some(ByteRange::From(5)));
        assert_eq!(r("bytes=-3"), Some(ByteRange::Suffix(3)));
        assert_eq!(r("bytes=9-0"), None);
        assert_eq!(r("bytes=0-1,4-5"), None);
        assert_eq!(r("items=0-1"), None);
        assert_eq!(r("bytes=a-b"), None);
        assert_eq!(ByteRange::FromTo(0, 99).resolve(10).unwrap(), (0, 9));
        assert_eq!(ByteRange::From(3).resolve(10).unwrap(), (3, 9));
        assert_eq!(ByteRange::Suffix(3).resolve(10).unwrap(), (7, 9));
        assert_eq!(ByteRange::Suffix(30).resolve(10).unwrap(), (0, 9));
        for bad in [
            ByteRange::FromTo(10, 20),
            ByteRange::From(10),
            ByteRange::Suffix(0),
        ] {
            let e = bad.resolve(10).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::InvalidRange);
        }
        assert_eq!(
            ByteRange::Suffix(1).resolve(0).unwrap_err().code,
            S3ErrorCode::InvalidRange
        );
    }
}
