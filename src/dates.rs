//! Time on the wire, both ways: the one place times are formatted (`X-Amz-Date`, ISO 8601,
//! S3's XML timestamps, HTTP dates), and HTTP dates parsed in every form S3 accepts in
//! `Date` and (for SigV2) `x-amz-date`.
//!
//! AWS's SigV2 page says the date "must be in one of the RFC 2616 formats" (RFC 1123,
//! RFC 850, asctime) and that its examples' `+0000` may be written `GMT`. Real clients
//! send more than `GMT`: s3cmd sends `+0000` (as AWS's own examples do), rclone's Go
//! `time.RFC1123` writes `UTC`, aws-sdk-ruby sent `+0100` to AWS without trouble
//! (aws-sdk-ruby#154), ceph/s3-tests#346 shows S3 taking `-0000`. So the zone may be
//! `GMT`, `UTC`, `UT`, `Z` or a numeric `±hhmm` offset, the weekday is optional (RFC 822)
//! and the day may have one digit (aws-sdk-go v1 writes `Mon, 2 Jan 2006`).
//!
//! Anything else is refused: a non-English day name got 403 from S3
//! (carrierwaveuploader/carrierwave#205), and so does a weekday that contradicts the date
//! (java.time, which S3's stack resolves dates with, rejects such a conflict).
//! `httpdate` accepts only `GMT`, which is why this parser exists.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

use time::format_description::FormatItem;
use time::macros::format_description;

const AMZ_DATE: &[FormatItem<'_>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");
const ISO_SECONDS: &[FormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const XML_TIME: &[FormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

/// `yyyyMMdd'T'HHmmss'Z'`, the form of `X-Amz-Date` and of SigV4's string to sign.
pub fn amz_date(t: OffsetDateTime) -> String {
    utc(t).format(AMZ_DATE).unwrap_or_default()
}

/// ISO 8601 to the second, `2026-01-15T12:00:00Z`: how S3 prints `ServerTime` and
/// `Expires`, and how the inspector and `explain` print times.
pub fn iso(t: OffsetDateTime) -> String {
    utc(t).format(ISO_SECONDS).unwrap_or_default()
}

/// S3's timestamps in XML documents: `2009-10-12T17:50:30.000Z`.
pub fn xml_time(t: OffsetDateTime) -> String {
    utc(t).format(XML_TIME).unwrap_or_default()
}

/// HTTP dates (`Last-Modified`): `Fri, 24 May 2013 00:00:00 GMT`.
pub fn http_time(t: OffsetDateTime) -> String {
    httpdate::fmt_http_date(std::time::SystemTime::from(t))
}

/// [`http_time`] as a header value, written by hand (no `fmt`): `Last-Modified` on every
/// GET and HEAD, and each second's `Date`.
pub fn http_date_value(t: OffsetDateTime) -> http::HeaderValue {
    const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let t = utc(t);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        // Outside what four digits hold; httpdate decides (it refuses nothing in range).
        return http::HeaderValue::from_str(&http_time(t))
            .unwrap_or(http::HeaderValue::from_static(""));
    }
    let two = |n: u8| [b'0' + n / 10, b'0' + n % 10];
    let year = year as u16;
    let mut out = Vec::with_capacity(29);
    out.extend_from_slice(DAYS[t.weekday().number_days_from_monday() as usize]);
    out.extend_from_slice(b", ");
    out.extend_from_slice(&two(t.day()));
    out.push(b' ');
    out.extend_from_slice(MONTHS[u8::from(t.month()) as usize - 1]);
    out.push(b' ');
    out.extend_from_slice(&two((year / 100) as u8));
    out.extend_from_slice(&two((year % 100) as u8));
    out.push(b' ');
    out.extend_from_slice(&two(t.hour()));
    out.push(b':');
    out.extend_from_slice(&two(t.minute()));
    out.push(b':');
    out.extend_from_slice(&two(t.second()));
    out.extend_from_slice(b" GMT");
    http::HeaderValue::from_maybe_shared(bytes::Bytes::from(out))
        .unwrap_or(http::HeaderValue::from_static(""))
}

/// `t` as the value of a `Date` header. Every response carries one and most are sent
/// within the second of the one before, so each worker thread keeps the last second's
/// value and formats only when the second changes (hyper caches its own `Date` the same
/// way; strict-s3 sends its clock's time instead, which may have been moved).
pub fn date_header(t: OffsetDateTime) -> Option<http::HeaderValue> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(i64, http::HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    let second = t.unix_timestamp();
    LAST.with_borrow_mut(|last| match last {
        Some((s, v)) if *s == second => Some(v.clone()),
        _ => {
            let v = http_date_value(t);
            *last = Some((second, v.clone()));
            Some(v)
        }
    })
}

const WEEKDAYS: [(&str, &str, Weekday); 7] = [
    ("Mon", "Monday", Weekday::Monday),
    ("Tue", "Tuesday", Weekday::Tuesday),
    ("Wed", "Wednesday", Weekday::Wednesday),
    ("Thu", "Thursday", Weekday::Thursday),
    ("Fri", "Friday", Weekday::Friday),
    ("Sat", "Saturday", Weekday::Saturday),
    ("Sun", "Sunday", Weekday::Sunday),
];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses an HTTP date (RFC 1123/822, RFC 850 or asctime) with the zones listed above.
pub fn parse_http_date(raw: &str) -> Option<OffsetDateTime> {
    let s = raw.trim();
    let (weekday, rest) = split_weekday(s)?;
    let t = if weekday.is_some() && !s.contains(',') {
        asctime(rest)?
    } else if rest.split_whitespace().next()?.contains('-') {
        rfc850(rest)?
    } else {
        rfc1123(rest)?
    };
    match weekday {
        Some(w) if w != t.weekday() => None,
        _ => Some(t),
    }
}

/// The optional leading weekday (`Wed,`, `Wednesday,` or asctime's `Wed `).
fn split_weekday(s: &str) -> Option<(Option<Weekday>, &str)> {
    let Some(first) = s.split([',', ' ']).next() else {
        return Some((None, s));
    };
    if first.bytes().all(|b| b.is_ascii_digit()) {
        return Some((None, s));
    }
    let &(_, _, day) = WEEKDAYS
        .iter()
        .find(|(short, long, _)| first == *short || first == *long)?;
    let rest = s[first.len()..].trim_start_matches(',').trim_start();
    Some((Some(day), rest))
}

/// `02 Dec 2026 00:51:07 GMT` (one-digit days and two-digit years accepted).
fn rfc1123(s: &str) -> Option<OffsetDateTime> {
    let mut it = s.split_whitespace();
    let (day, month, year, clock, zone) =
        (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    assemble(year, month, day, clock, zone)
}

/// `02-Dec-26 00:51:07 GMT`.
fn rfc850(s: &str) -> Option<OffsetDateTime> {
    let mut it = s.split_whitespace();
    let (date, clock, zone) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let mut d = date.split('-');
    let (day, month, year) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() {
        return None;
    }
    assemble(year, month, day, clock, zone)
}

/// `Dec  2 00:51:07 2026` (always UTC).
fn asctime(s: &str) -> Option<OffsetDateTime> {
    let mut it = s.split_whitespace();
    let (month, day, clock, year) = (it.next()?, it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    assemble(year, month, day, clock, "GMT")
}

fn number<T: std::str::FromStr>(s: &str, min_len: usize, max_len: usize) -> Option<T> {
    if s.len() < min_len || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn assemble(year: &str, month: &str, day: &str, clock: &str, zone: &str) -> Option<OffsetDateTime> {
    let year: i32 = match year.len() {
        4 => number(year, 4, 4)?,
        // RFC 850's two-digit years: the nearest century, as RFC 7231 §7.1.1.1 asks.
        2 => {
            let y: i32 = number(year, 2, 2)?;
            if y < 70 { 2000 + y } else { 1900 + y }
        }
        _ => return None,
    };
    let month = MONTHS.iter().position(|m| *m == month)? as u8 + 1;
    let date =
        Date::from_calendar_date(year, Month::try_from(month).ok()?, number(day, 1, 2)?).ok()?;
    let mut hms = clock.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    let time = Time::from_hms(number(h, 2, 2)?, number(m, 2, 2)?, number(s, 2, 2)?).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(zone_offset(zone)?))
}

fn zone_offset(zone: &str) -> Option<UtcOffset> {
    match zone {
        "GMT" | "UTC" | "UT" | "Z" => Some(UtcOffset::UTC),
        _ => {
            let (sign, digits) = match zone.as_bytes().first()? {
                b'+' => (1, &zone[1..]),
                b'-' => (-1, &zone[1..]),
                _ => return None,
            };
            let hhmm: i32 = number(digits, 4, 4)?;
            let (h, m) = (hhmm / 100, hhmm % 100);
            if h > 23 || m > 59 {
                return None;
            }
            UtcOffset::from_whole_seconds(sign * (h * 3600 + m * 60)).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn http_dates_by_hand_are_httpdates() {
        let start = datetime!(1970-01-01 00:00:00 UTC);
        // A spread of instants over 200 years: every weekday, month, leap day.
        for i in 0..5000i64 {
            let t = start + time::Duration::seconds(i * 1_262_347 + i % 61);
            assert_eq!(http_date_value(t), http_time(t).as_str(), "{t}");
        }
        let leap = datetime!(2024-02-29 23:59:59 UTC);
        assert_eq!(http_date_value(leap), "Thu, 29 Feb 2024 23:59:59 GMT");
    }

    #[test]
    fn date_header_follows_the_clock_second_by_second() {
        let t = datetime!(2026-12-02 00:51:07.100 UTC);
        let v = date_header(t).unwrap();
        assert_eq!(v, "Wed, 02 Dec 2026 00:51:07 GMT");
        // Within the second: the same value; the next second, or a clock moved back a
        // day: formatted anew.
        assert_eq!(
            date_header(t + time::Duration::milliseconds(800)).unwrap(),
            v
        );
        let next = t + time::Duration::seconds(1);
        assert_eq!(date_header(next).unwrap(), "Wed, 02 Dec 2026 00:51:08 GMT");
        let back = t - time::Duration::days(1);
        assert_eq!(date_header(back).unwrap(), "Tue, 01 Dec 2026 00:51:07 GMT");
    }

    #[test]
    fn accepts_the_forms_clients_send() {
        let t = datetime!(2026-12-02 00:51:07 UTC);
        for raw in [
            "Wed, 02 Dec 2026 00:51:07 GMT", // RFC 1123, what browsers and boto send
            "Wed, 02 Dec 2026 00:51:07 +0000", // s3cmd, AWS's SigV2 examples
            "Wed, 02 Dec 2026 00:51:07 UTC", // rclone (Go's time.RFC1123)
            "Wed, 02 Dec 2026 00:51:07 UT",
            "Wed, 02 Dec 2026 00:51:07 -0000",
            "Wed, 2 Dec 2026 00:51:07 +0000",    // aws-sdk-go v1
            "02 Dec 2026 00:51:07 GMT",          // RFC 822 without the weekday
            "Wednesday, 02-Dec-26 00:51:07 GMT", // RFC 850
            "Wed Dec  2 00:51:07 2026",          // asctime
            "  Wed, 02 Dec 2026 00:51:07 GMT ",
        ] {
            assert_eq!(parse_http_date(raw), Some(t), "{raw}");
        }
        assert_eq!(
            parse_http_date("Wed, 02 Dec 2026 01:51:07 +0100"),
            Some(t),
            "a numeric offset is applied"
        );
        assert_eq!(parse_http_date("Tue, 01 Dec 2026 19:51:07 -0500"), Some(t));
    }

    #[test]
    fn formats_each_wire_form() {
        let t = datetime!(2013-05-24 00:00:00.123 UTC);
        assert_eq!(amz_date(t), "20130524T000000Z");
        assert_eq!(iso(t), "2013-05-24T00:00:00Z");
        assert_eq!(xml_time(t), "2013-05-24T00:00:00.123Z");
        assert_eq!(http_time(t), "Fri, 24 May 2013 00:00:00 GMT");
        let offset = datetime!(2013-05-24 02:00:00 +02:00);
        assert_eq!(amz_date(offset), "20130524T000000Z");
        assert_eq!(iso(offset), "2013-05-24T00:00:00Z");
    }

    #[test]
    fn refuses_garbage() {
        for raw in [
            "",
            "Bad Date",
            "Fr, 28 Jan 2011 14:46:39 +0000", // a non-English day name (carrierwave#205)
            "Thu, 02 Dec 2026 00:51:07 GMT",  // the weekday contradicts the date
            "Wed, 02 Dec 2026 00:51:07",      // no zone
            "Wed, 02 Dec 2026 00:51:07 EST",
            "Wed, 02 Dec 2026 00:51:07 +01",
            "Wed, 02 Dec 2026 00:51:07 +2500",
            "Wed, 32 Dec 2026 00:51:07 GMT",
            "Wed, 02 Dek 2026 00:51:07 GMT",
            "Wed, 02 Dec 2026 24:00:00 GMT",
            "Wed, 02 Dec 2026 0:51:07 GMT",
            "20170509T154625+01",
            "20261202T005107Z",
            "Wed, 02 Dec 2026 00:51:07 GMT extra",
        ] {
            assert_eq!(parse_http_date(raw), None, "{raw:?}");
        }
    }
}
