//! Dashboards computed from real rows: [`mentor`], [`coordinator`] and [`cohort`]
//! figures, and the [`store`] that keeps them as synced rows (the director's cache).
//! Each computation reads a whole chapter (or one subject) in a few grouped queries, so the
//! refresh job costs the same handful of queries for 10 mentors or 1,000.

pub mod cohort;
pub mod coordinator;
pub mod fresh;
pub mod mentor;
pub mod store;
pub mod stream;

/// Whether two computations of a dashboard show the same figures (their computation
/// times aside): only then is there something new to store, sync or stream.
pub fn same_figures(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("computed_at");
        }
        v
    };
    strip(a) == strip(b)
}

/// The day containing `now`, for a viewer `utc_offset_minutes` east of UTC: `[start, end)`.
pub fn day_bounds(now: i64, utc_offset_minutes: i64) -> (i64, i64) {
    const DAY: i64 = 86_400_000;
    let offset = utc_offset_minutes * 60_000;
    let start = (now + offset).div_euclid(DAY) * DAY - offset;
    (start, start + DAY)
}

#[cfg(test)]
mod tests {
    use super::day_bounds;

    #[test]
    fn day_bounds_follow_the_offset() {
        let noon_utc = 1_700_000_000_000 / 86_400_000 * 86_400_000 + 12 * 3_600_000;
        let (s, e) = day_bounds(noon_utc, 0);
        assert_eq!((noon_utc - s, e - s), (12 * 3_600_000, 86_400_000));
        // 14:00 local in UTC+2: the local day started 14 h ago.
        let (s, _) = day_bounds(noon_utc, 120);
        assert_eq!(noon_utc - s, 14 * 3_600_000);
        // 01:00 local in UTC-11 is still the same local day, started 1 h ago.
        let (s, _) = day_bounds(noon_utc, -660);
        assert_eq!(noon_utc - s, 3_600_000);
    }
}
