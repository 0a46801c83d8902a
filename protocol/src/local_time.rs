//! Times as people read them: in their own time zone (a user's, else their chapter's),
//! for notification texts and for what "today" means on a dashboard.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
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
    first_moment(zone, day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The first moment the clocks of `zone` show `t` (or the first minute after, when the
/// clocks jump over it).
fn first_moment(zone: &Tz, mut t: NaiveDateTime) -> i64 {
    for _ in 0..=180 {
        match zone.from_local_datetime(&t) {
            LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => return x.timestamp_millis(),
            LocalResult::None => t += chrono::Duration::minutes(1),
        }
    }
    Utc.with_ymd_and_hms(t.year(), t.month(), t.day(), t.hour(), t.minute(), 0)
        .single()
        .map_or(0, |x| x.timestamp_millis())
}

/// "22:00" as minutes of the day (1320); `None` unless `HH:MM` with HH < 24, MM < 60.
pub fn minute_of_day(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Quiet hours from minute `from` to minute `until` of the reader's day (22:00–07:00
/// wraps midnight): when `now_ms` falls inside them, the moment they end; else `None`.
pub fn quiet_until(now_ms: i64, tz: Option<&str>, from: u32, until: u32) -> Option<i64> {
    if from == until {
        return None;
    }
    let zone = zone(tz);
    let now = DateTime::<Utc>::from_timestamp_millis(now_ms)?.with_timezone(&zone);
    let minute = now.hour() * 60 + now.minute();
    let inside = if from < until {
        (from..until).contains(&minute)
    } else {
        minute >= from || minute < until
    };
    if !inside {
        return None;
    }
    let today = now.date_naive();
    let day = if minute < until {
        today
    } else {
        today.succ_opt()?
    };
    let end = first_moment(&zone, day.and_hms_opt(until / 60, until % 60, 0)?);
    Some(end.max(now_ms + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_hold_until_they_end_in_the_readers_zone() {
        // 2026-12-08T23:30:00Z is 23:30 in Dublin (winter, UTC+0) and 10:30 in Sydney.
        let t = 1_796_772_600_000;
        let (night, morning) = (
            minute_of_day("22:00").unwrap(),
            minute_of_day("07:00").unwrap(),
        );
        // Ends at 07:00 the next morning in Dublin.
        assert_eq!(
            quiet_until(t, Some("Europe/Dublin"), night, morning),
            Some(1_796_799_600_000)
        );
        assert_eq!(
            quiet_until(t, Some("Australia/Sydney"), night, morning),
            None
        );
        // A daytime window that does not wrap.
        let (nine, five) = (
            minute_of_day("09:00").unwrap(),
            minute_of_day("17:00").unwrap(),
        );
        assert_eq!(
            quiet_until(t, Some("Australia/Sydney"), nine, five),
            Some(t + 6 * 3_600_000 + 30 * 60_000)
        );
        assert_eq!(quiet_until(t, Some("Europe/Dublin"), nine, five), None);
        assert_eq!(quiet_until(t, None, night, night), None, "an empty window");
        for bad in ["7:00", "24:00", "12:60", "ab:cd", ""] {
            assert_eq!(minute_of_day(bad), None, "{bad}");
        }
    }

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
