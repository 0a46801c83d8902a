//! Times as people read them: in their own time zone (a user's, else their chapter's),
//! for notification texts and for what "today" means on a dashboard.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The zone named `tz`, or UTC when it is not an IANA name (stored names are checked on
/// the way in; this never fails a notification over one).
pub fn zone(tz: Option<&str>) -> Tz {
    tz.and_then(|t| t.parse().ok()).unwrap_or(Tz::UTC)
}

/// "Tue 8 Dec 2026, 18:00 WET": a moment in the reader's time zone.
pub fn for_people(ms: i64, tz: Option<&str>) -> String {
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(ms) else {
        return ms.to_string();
    };
    utc.with_timezone(&zone(tz))
        .format("%a %-d %b %Y, %H:%M %Z")
        .to_string()
}

/// The local day holding `now_ms` in `tz`: `[start, end)` in epoch ms. A day is 23 or 25
/// hours when the clocks change.
pub fn day_bounds(now_ms: i64, tz: Option<&str>) -> (i64, i64) {
    let zone = zone(tz);
    let Some(now) = DateTime::<Utc>::from_timestamp_millis(now_ms) else {
        return (now_ms, now_ms + 86_400_000);
    };
    let today = now.with_timezone(&zone).date_naive();
    let start = midnight(&zone, today);
    let end = today
        .succ_opt()
        .map_or(start + 86_400_000, |d| midnight(&zone, d));
    (start, end)
}

/// The first moment of `day` in `zone` (midnight, or the first minute after a gap).
fn midnight(zone: &Tz, day: NaiveDate) -> i64 {
    let mut t = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..=180 {
        match zone.from_local_datetime(&t) {
            LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => return x.timestamp_millis(),
            LocalResult::None => t += chrono::Duration::minutes(1),
        }
    }
    Utc.with_ymd_and_hms(day.year(), day.month(), day.day(), 0, 0, 0)
        .single()
        .map_or(0, |x| x.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_reads_in_the_readers_zone() {
        // 2026-12-08T18:00:00Z
        let t = 1_796_752_800_000;
        assert_eq!(
            for_people(t, Some("Europe/Lisbon")),
            "Tue 8 Dec 2026, 18:00 WET"
        );
        assert_eq!(
            for_people(t, Some("America/Sao_Paulo")),
            "Tue 8 Dec 2026, 15:00 -03"
        );
        assert_eq!(for_people(t, None), "Tue 8 Dec 2026, 18:00 UTC");
        assert_eq!(
            for_people(t, Some("Not/AZone")),
            "Tue 8 Dec 2026, 18:00 UTC"
        );
    }

    #[test]
    fn today_is_the_local_day() {
        // 2026-12-08T23:30:00Z is already the 9th in Tokyo.
        let t = 1_796_772_600_000;
        let (start, end) = day_bounds(t, Some("Asia/Tokyo"));
        assert_eq!(start, 1_796_828_400_000 - 86_400_000); // 2026-12-08T15:00Z
        assert_eq!(end - start, 86_400_000);
        assert!(start <= t && t < end);
        assert_eq!(day_bounds(t, None).0, 1_796_688_000_000); // 2026-12-08T00:00Z
        // Lisbon's spring-forward day (2026-03-29) is 23 hours long.
        let (s, e) = day_bounds(1_774_785_600_000, Some("Europe/Lisbon")); // 2026-03-29T12:00Z
        assert_eq!(e - s, 23 * 3_600_000);
    }
}
