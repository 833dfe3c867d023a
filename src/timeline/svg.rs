//! Draws the model as two SVGs: the lane names (fixed on the left) and the chart (scrolls).
//!
//! The chart has two layers so that zooming stays cheap and text never stretches: shapes live in
//! `#plot`, which the page's script scales horizontally; labels and markers live in `#overlay`
//! and carry their unscaled x in `data-x`, which the script multiplies by the zoom.

use super::html::esc;
use super::model::{GroupLanes, PartitionLane, Span, Timeline};
use crate::protocol::TopicPartition;
use std::fmt::Write;

/// Chart width at zoom 1, in pixels.
pub const BASE_W: f64 = 1400.0;
/// Width of the lane-name column.
pub const NAMES_W: u32 = 250;
pub const LANE_H: u32 = 18;
const AXIS_H: u32 = 24;
const ROW_H: u32 = 16;

/// The drawing under way.
pub struct Svg<'a> {
    t: &'a Timeline,
    pub plot: String,
    pub overlay: String,
    pub names: String,
    /// Full-height backgrounds (fault windows, violation lines), drawn once the height is known.
    pub y: u32,
}

/// Seconds, as the axis and titles show them.
pub fn secs(us: u64) -> String {
    format!("{}.{:03}s", us / 1_000_000, (us / 1000) % 1000)
}

/// A member's colour: golden-angle hues, so neighbours differ.
pub fn member_colour(i: usize) -> String {
    let hue = (i as f64 * 137.508) % 360.0;
    let light = if i.is_multiple_of(2) { 52 } else { 40 };
    format!("hsl({hue:.0},70%,{light}%)")
}

/// A broker's colour (pale, so the high watermark line on top stays visible).
pub fn broker_colour(b: u32) -> String {
    let hue = (b as f64 * 97.0 + 190.0) % 360.0;
    format!("hsl({hue:.0},45%,78%)")
}

impl<'a> Svg<'a> {
    pub fn new(t: &'a Timeline) -> Self {
        Svg {
            t,
            plot: String::new(),
            overlay: String::new(),
            names: String::new(),
            y: AXIS_H,
        }
    }

    /// The unscaled x of a time.
    pub fn x(&self, us: u64) -> f64 {
        us as f64 * BASE_W / self.t.end_us as f64
    }

    fn name(&mut self, text: &str, title: &str, class: &str, h: u32) {
        let y = self.y + h / 2 + 4;
        let _ = write!(
            self.names,
            r#"<text x="6" y="{y}" class="{class}">{}<title>{}</title></text>"#,
            esc(text),
            esc(title)
        );
    }

    /// A rect on the plot layer with a hover title.
    fn rect(&mut self, s: (u64, u64), y: u32, h: u32, fill: &str, class: &str, title: &str) {
        let (x0, x1) = (self.x(s.0), self.x(s.1));
        let w = (x1 - x0).max(0.5);
        let _ = write!(
            self.plot,
            r#"<rect x="{x0:.2}" y="{y}" width="{w:.2}" height="{h}" fill="{fill}" class="{class}"><title>{}</title></rect>"#,
            esc(title)
        );
    }

    /// A label on the overlay, hidden by the script when its span is narrower than it.
    fn label(&mut self, at_us: u64, span_px: f64, y: u32, class: &str, text: &str) {
        let x = self.x(at_us);
        let _ = write!(
            self.overlay,
            r#"<text data-x="{x:.2}" data-w="{span_px:.1}" x="{:.2}" y="{y}" class="{class}">{}</text>"#,
            x + 2.0,
            esc(text)
        );
    }

    /// The fault rows and the violation row at the top.
    pub fn header(&mut self) {
        let rows = pack_rows(
            self.t
                .faults
                .iter()
                .map(|w| (w.start_us, w.end_us.max(w.start_us + 1))),
        );
        let n = rows.iter().copied().max().map_or(1, |m| m + 1) as u32;
        self.name(
            "faults",
            "fault windows (crash to restart, partition to heal, pauses, slow polls)",
            "sec",
            n * ROW_H,
        );
        for (i, (w, row)) in self.t.faults.iter().zip(&rows).enumerate() {
            let row = *row;
            let y = self.y + row as u32 * ROW_H + 1;
            let open = if w.open_ended {
                " (healed by the liveness phase / end of run)"
            } else {
                ""
            };
            let title = format!(
                "fault {} {}–{}{open}",
                w.label,
                secs(w.start_us),
                secs(w.end_us)
            );
            let class = format!("fault {}", w.kind.css());
            self.rect((w.start_us, w.end_us), y, ROW_H - 2, "none", &class, &title);
            // The label may run past the window, up to the next one in its row.
            let next = (i + 1..rows.len()).find(|j| rows[*j] == row);
            let room = next.map_or(1e9, |j| {
                self.x(self.t.faults[j].start_us) - self.x(w.start_us)
            });
            self.label(w.start_us, room, y + ROW_H - 5, "flabel", &w.label);
        }
        self.y += n * ROW_H + 2;
        self.name(
            "violations",
            "checker violations (red markers)",
            "sec",
            ROW_H,
        );
        let vs = &self.t.violations;
        for (i, v) in vs.iter().enumerate() {
            let x = self.x(v.at_us);
            let title = format!(
                "VIOLATION {} ({:?}) at {}: {}",
                v.invariant,
                v.kind,
                secs(v.at_us),
                v.detail
            );
            let cy = self.y + ROW_H / 2;
            let _ = write!(
                self.overlay,
                r#"<g class="viol" data-x="{x:.2}" transform="translate({x:.2},0)"><circle cx="0" cy="{cy}" r="5"/><title>{}</title></g>"#,
                esc(&title)
            );
            // The name shows when the next marker leaves room for it.
            let gap = vs.get(i + 1).map_or(1e9, |n| self.x(n.at_us) - x);
            self.label(v.at_us, gap - 6.0, cy + 4, "vlabel", v.invariant);
        }
        self.y += ROW_H + 4;
    }

    /// A group: its state lane, then one ownership lane per partition.
    pub fn group(&mut self, name: &str, g: &GroupLanes) {
        let top = self.y;
        self.name(
            &format!("group {name}"),
            &format!("group {name}: state at its coordinator"),
            "sec",
            LANE_H,
        );
        for p in &g.phases {
            let w = &p.what;
            let title = format!(
                "group {name} {} gen {} at {} members=[{}] leader={} {}–{}",
                w.state,
                w.generation,
                w.coordinator,
                w.members.join(","),
                w.leader.as_deref().unwrap_or("none"),
                secs(p.start_us),
                secs(p.end_us)
            );
            let class = format!("st {}", state_class(&w.state));
            self.rect(
                (p.start_us, p.end_us),
                self.y + 2,
                LANE_H - 4,
                "none",
                &class,
                &title,
            );
        }
        self.y += LANE_H;
        for (tp, spans) in &g.owners {
            self.owner_lane(name, tp, spans, g);
        }
        for (i, (at, gen)) in g.generations.iter().enumerate() {
            let x = self.x(*at);
            let room = g.generations.get(i + 1).map_or(1e9, |n| self.x(n.0) - x);
            let _ = write!(
                self.plot,
                r#"<line class="gen" x1="{x:.2}" x2="{x:.2}" y1="{top}" y2="{}"><title>group {} gen {gen} from {}</title></line>"#,
                self.y,
                esc(name),
                secs(*at)
            );
            self.label(
                *at,
                room,
                top + LANE_H - 5,
                "genlabel",
                &format!("gen {gen}"),
            );
        }
        self.y += 6;
    }

    fn owner_lane(
        &mut self,
        group: &str,
        tp: &TopicPartition,
        spans: &[Span<super::model::Owner>],
        g: &GroupLanes,
    ) {
        self.name(
            &format!("  {tp}"),
            &format!("group {group}, partition {tp}: owner"),
            "lane",
            LANE_H,
        );
        // Owners that overlap (a zombie still holding on) share the lane in thinner rows.
        let rows = pack_rows(
            spans
                .iter()
                .map(|s| (s.start_us, s.end_us.max(s.start_us + 1))),
        );
        let n = rows.iter().copied().max().map_or(1, |m| m + 1) as u32;
        let h = (LANE_H - 2) / n;
        for (s, row) in spans.iter().zip(rows) {
            let o = &s.what;
            let i = self.t.member_index(&o.member);
            let node = self
                .t
                .members
                .get(i)
                .map(|m| m.1.to_string())
                .unwrap_or_default();
            let title = format!(
                "{tp} owned by {} ({node}) in group {group} gen {} {}–{}, ended by {}",
                o.member,
                o.generation,
                secs(s.start_us),
                secs(s.end_us),
                o.ended_by
            );
            let title = if n > 1 {
                format!("{title} (owners overlap in this lane)")
            } else {
                title
            };
            let class = format!("own m{i}");
            let y = self.y + 1 + row as u32 * h;
            let fill = member_colour(i);
            self.rect((s.start_us, s.end_us), y, h, &fill, &class, &title);
            let span = if n > 1 {
                0.0
            } else {
                self.x(s.end_us) - self.x(s.start_us)
            };
            self.label(
                s.start_us,
                span,
                self.y + LANE_H - 5,
                "olabel",
                &format!("{node} g{}", o.generation),
            );
        }
        self.commit_ticks(tp, g.commits.get(tp).map(Vec::as_slice).unwrap_or(&[]));
        self.y += LANE_H;
    }

    /// A partition: leader bands (epoch labels, ISR on hover), high watermark and log end lines.
    pub fn partition(&mut self, tp: &TopicPartition, p: &PartitionLane) {
        let hw = p.hw.last().map_or(0, |h| h.1);
        self.name(
            &format!("{tp}  hw {hw}"),
            &format!("partition {tp}: leader, ISR, high watermark (solid), log end (dashed)"),
            "lane",
            LANE_H,
        );
        for s in &p.states {
            let (st, why) = &s.what;
            let leader = st.leader.map_or("none".to_string(), |l| format!("b{l}"));
            let isr: Vec<String> = st.isr.iter().map(|b| format!("b{b}")).collect();
            let title = format!(
                "{tp} leader {leader} epoch {} isr [{}] partition epoch {} ({why}) {}–{}",
                st.leader_epoch,
                isr.join(","),
                st.partition_epoch,
                secs(s.start_us),
                secs(s.end_us)
            );
            let fill = st.leader.map_or("#ddd".to_string(), broker_colour);
            self.rect(
                (s.start_us, s.end_us),
                self.y + 1,
                LANE_H - 2,
                &fill,
                "lead",
                &title,
            );
            let span = self.x(s.end_us) - self.x(s.start_us);
            self.label(
                s.start_us,
                span,
                self.y + LANE_H - 5,
                "llabel",
                &format!("{leader} e{} isr {}", st.leader_epoch, isr.join(",")),
            );
        }
        let max = p
            .leo
            .iter()
            .chain(&p.hw)
            .map(|v| v.1)
            .max()
            .unwrap_or(0)
            .max(1);
        self.step(
            &p.leo,
            max,
            "leo",
            &format!("{tp} log end offset on the leader"),
        );
        self.step(
            &p.hw,
            max,
            "hw",
            &format!("{tp} high watermark on the leader"),
        );
        self.truncations(tp, &p.truncations);
        self.y += LANE_H;
    }

    /// Commit ticks at the bottom of an ownership lane (black: accepted, red: failed).
    fn commit_ticks(&mut self, tp: &TopicPartition, ticks: &[super::model::CommitTick]) {
        for c in ticks {
            let x = self.x(c.at_us);
            let class = if c.failed > 0 { "commit bad" } else { "commit" };
            let title = format!(
                "{} commit(s) of {tp} from {} ({} failed), last offset {}: {}",
                c.count,
                secs(c.at_us),
                c.failed,
                c.last_offset,
                c.detail
            );
            let _ = write!(
                self.plot,
                r#"<line class="{class}" x1="{x:.2}" x2="{x:.2}" y1="{}" y2="{}"><title>{}</title></line>"#,
                self.y + LANE_H - 6,
                self.y + LANE_H,
                esc(&title)
            );
        }
    }

    /// Orange ticks at the top of a partition lane, one per truncation on any replica.
    fn truncations(&mut self, tp: &TopicPartition, truncations: &[(u64, String)]) {
        for (at, text) in truncations {
            let x = self.x(*at);
            let _ = write!(
                self.plot,
                r#"<line class="trunc" x1="{x:.2}" x2="{x:.2}" y1="{}" y2="{}"><title>{} {tp} {}</title></line>"#,
                self.y,
                self.y + 6,
                secs(*at),
                esc(text)
            );
        }
    }

    /// A step line of `(at, value)` scaled so that `max` touches the lane's top.
    fn step(&mut self, series: &[(u64, u64)], max: u64, class: &str, what: &str) {
        let Some(first) = series.first() else { return };
        let h = (LANE_H - 4) as f64;
        let y = |v: u64| self.y as f64 + 2.0 + h - h * v as f64 / max as f64;
        let mut d = format!("M{:.2} {:.2}", self.x(first.0), y(first.1));
        for (at, v) in &series[1..] {
            let _ = write!(d, "H{:.2}V{:.2}", self.x(*at), y(*v));
        }
        let _ = write!(d, "H{:.2}", self.x(self.t.end_us));
        let last = series.last().map_or(0, |l| l.1);
        let title = format!(
            "{what}: {} → {last} ({} steps drawn)",
            first.1,
            series.len()
        );
        let _ = write!(
            self.plot,
            r#"<path class="{class}" d="{d}"><title>{}</title></path>"#,
            esc(&title)
        );
    }

    /// Fault windows and violation lines across every lane, once the height is known.
    pub fn backdrop(&self) -> String {
        let mut out = String::new();
        for w in &self.t.faults {
            let (x0, x1) = (self.x(w.start_us), self.x(w.end_us));
            let _ = write!(
                out,
                r#"<rect class="shade {}" x="{x0:.2}" y="0" width="{:.2}" height="{}"/>"#,
                w.kind.css(),
                (x1 - x0).max(0.5),
                self.y
            );
        }
        for v in &self.t.violations {
            let x = self.x(v.at_us);
            let _ = write!(
                out,
                r#"<line class="vline" x1="{x:.2}" x2="{x:.2}" y1="0" y2="{}"/>"#,
                self.y
            );
        }
        out
    }
}

/// The CSS class of a group state.
fn state_class(state: &str) -> &'static str {
    match state {
        "Empty" => "st-empty",
        "PreparingRebalance" => "st-prep",
        "CompletingRebalance" => "st-comp",
        "Stable" => "st-stable",
        "Dead" => "st-dead",
        _ => "st-other",
    }
}

/// Greedy row packing: the first row where the interval does not overlap the previous one.
pub fn pack_rows(spans: impl Iterator<Item = (u64, u64)>) -> Vec<usize> {
    let mut ends: Vec<u64> = Vec::new();
    let mut rows = Vec::new();
    for (start, end) in spans {
        let row = match ends.iter().position(|e| *e <= start) {
            Some(r) => r,
            None => {
                ends.push(0);
                ends.len() - 1
            }
        };
        ends[row] = end;
        rows.push(row);
    }
    rows
}
