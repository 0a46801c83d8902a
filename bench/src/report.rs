//! One line per figure: value, target, PASS or MISS, and the ratio to the limit measured
//! in the same run where there is one. Printed as a table and as JSON.

use serde::Serialize;

/// How a figure compares with its target.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Higher is better: the value must reach the target.
    AtLeast,
    /// Lower is better: the value must stay within the target.
    AtMost,
    /// Reported only.
    Info,
}

/// A measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// W1…W8.
    pub workload: &'static str,
    /// What was measured.
    pub figure: String,
    /// The measurement.
    pub value: f64,
    /// Its unit.
    pub unit: &'static str,
    /// The target, if any.
    pub target: Option<f64>,
    /// How the target applies.
    pub goal: Goal,
    /// value / limit measured in this run, where a limit applies.
    pub ratio: Option<f64>,
}

impl Line {
    /// A figure with a target.
    pub fn new(
        workload: &'static str,
        figure: impl Into<String>,
        value: f64,
        unit: &'static str,
        goal: Goal,
        target: f64,
    ) -> Line {
        Line {
            workload,
            figure: figure.into(),
            value,
            unit,
            target: (goal != Goal::Info).then_some(target),
            goal,
            ratio: None,
        }
    }

    /// A figure reported without a target.
    pub fn info(
        workload: &'static str,
        figure: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Line {
        Line::new(workload, figure, value, unit, Goal::Info, 0.0)
    }

    /// Adds the ratio to a limit.
    pub fn ratio(mut self, ratio: f64) -> Line {
        self.ratio = Some(ratio);
        self
    }

    /// PASS, MISS, or blank for information.
    pub fn verdict(&self) -> &'static str {
        match (self.goal, self.target) {
            (Goal::AtLeast, Some(t)) if self.value >= t => "PASS",
            (Goal::AtMost, Some(t)) if self.value <= t => "PASS",
            (Goal::Info, _) | (_, None) => "",
            _ => "MISS",
        }
    }
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Prints the table.
pub fn table(lines: &[Line]) {
    println!(
        "{:<4} {:<58} {:>12} {:<8} {:>12} {:<5} {:>8}",
        "", "figure", "value", "unit", "target", "", "ratio"
    );
    for l in lines {
        let target = match (l.goal, l.target) {
            (Goal::AtLeast, Some(t)) => format!(">= {}", num(t)),
            (Goal::AtMost, Some(t)) => format!("<= {}", num(t)),
            _ => String::new(),
        };
        let ratio = l.ratio.map(|r| format!("{r:.2}x")).unwrap_or_default();
        println!(
            "{:<4} {:<58} {:>12} {:<8} {:>12} {:<5} {:>8}",
            l.workload,
            l.figure,
            num(l.value),
            l.unit,
            target,
            l.verdict(),
            ratio
        );
    }
}

/// The lines as JSON, each with its verdict.
pub fn json(lines: &[Line], context: serde_json::Value) -> serde_json::Value {
    let lines: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            let mut v = serde_json::to_value(l).unwrap_or_default();
            v["verdict"] = l.verdict().into();
            v
        })
        .collect();
    serde_json::json!({"context": context, "results": lines})
}

/// The `q`-quantile (0..=1) of `samples` in the samples' unit.
pub fn quantile(samples: &mut [f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[i.min(samples.len() - 1)]
}
