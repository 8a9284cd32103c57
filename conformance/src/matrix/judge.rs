//! Verdicts: what each scenario requires of what a client drew or decoded.
//!
//! Every browser cell fails on an image error event, a page exception, or
//! nothing to show at the end (a broken or blank image); every decoder cell
//! fails on an error it printed. Then each scenario asks its own question.

use mjpeg_tower::Framing;

use crate::client::{CheckResult, Outcome};
use crate::clients::page::PageReport;
use crate::clients::{Colour, LatencySummary, Seen, latencies};
use crate::ensure;

use super::observe::Observed;
use super::{Cell, Client, Evidence, Scenario};

/// Limits of a client that no framing of ours can lift, by cell: a failing
/// row that matches is reported as not applicable, with the limit and what
/// was seen, so it stays visible without failing the run.
fn documented_limit(cell: Cell) -> Option<&'static str> {
    let advance = cell.framing == Some(Framing::AdvanceHeaders);
    match (cell.client, cell.scenario) {
        (Client::Ffmpeg | Client::OpenCv, Scenario::Slow) if advance => Some(
            "documented limit (see Framing): FFmpeg's mpjpeg demuxer (ffmpeg, OpenCV) hands out a part without Content-Length only once about 2 KB more arrive, so a slow source's newest frame shows when the next comes; serve such clients Framing::Standard",
        ),
        (Client::Chromium | Client::Firefox | Client::WebKit, Scenario::SixteenStreams) => Some(
            "documented limit: over HTTP/1.1 a browser opens at most 6 connections per origin and each live stream holds one; serve HTTPS (feature `tls`) so the streams share one HTTP/2 connection (sixteen-streams-https)",
        ),
        _ => None,
    }
}

/// Turns a failure of a cell with a [`documented_limit`] into a not-applicable row.
pub(super) fn annotate(cell: Cell, result: CheckResult) -> CheckResult {
    match (result, documented_limit(cell)) {
        (Err(e), Some(limit)) => Ok(Outcome::NotApplicable(format!("{limit}; seen: {e}"))),
        (result, _) => result,
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.0}"))
}

/// Judges one cell.
pub(super) fn judge(
    cell: Cell,
    observed: &Observed,
    published: &[(u64, Colour)],
) -> (CheckResult, Evidence) {
    let (result, evidence) = match observed {
        Observed::Page(report) => {
            // Frames published after the page stopped watching do not count.
            let published: Vec<(u64, Colour)> = published
                .iter()
                .filter(|p| p.0 as f64 <= report.ended)
                .copied()
                .collect();
            let published = published.as_slice();
            let shown: Vec<Seen> = report.seen.iter().filter(|s| s.a > 0).copied().collect();
            let lat = latencies(published, &shown);
            let evidence = Evidence {
                thumbnail: report.thumbnail.clone(),
                decoded: Vec::new(),
                latencies: lat.clone(),
            };
            (browser(cell, report, &shown, published, &lat), evidence)
        }
        Observed::Decoded(decoded) => {
            let lat = latencies(published, &decoded.frames);
            let evidence = Evidence {
                thumbnail: None,
                decoded: decoded.frames.iter().map(Seen::colour).collect(),
                latencies: lat.clone(),
            };
            let result = decoder(cell, decoded, published, &lat);
            (result, evidence)
        }
    };
    (annotate(cell, result), evidence)
}

fn distinct(seen: &[Seen]) -> usize {
    let mut v: Vec<usize> = seen.iter().map(|s| s.colour().nearest()).collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn browser(
    cell: Cell,
    report: &PageReport,
    shown: &[Seen],
    published: &[(u64, Colour)],
    lat: &[Option<f64>],
) -> CheckResult {
    let s = LatencySummary::of(lat);
    let errors = report.events.iter().filter(|e| e.kind == "error").count();
    let seen_by_page = format!(
        "{} changes drawn, {} img error events, final width {}, {} ms blank, page errors {:?}",
        shown.len(),
        errors,
        report.final_width,
        report.blank_ms,
        report.errors
    );
    ensure!(!shown.is_empty(), "nothing drawn; {seen_by_page}");
    ensure!(errors == 0, "broken image (error event); {seen_by_page}");
    ensure!(report.errors.is_empty(), "page errors; {seen_by_page}");
    let last = report
        .final_pixel
        .filter(|p| p.a > 0 && report.final_width > 0)
        .ok_or(format!(
            "nothing shown at the end (blank or broken); {seen_by_page}"
        ))?;
    let drawn = s.drawn;
    let summary = format!(
        "{drawn} of {} published frames drawn ({} colours); p50 {} ms, max {} ms",
        published.len(),
        distinct(shown),
        ms(s.p50),
        ms(s.max)
    );
    let advance = cell.framing != Some(Framing::Standard);
    match cell.scenario {
        Scenario::Live => {
            ensure!(
                drawn >= 15,
                "{drawn} frames drawn in 2 s at 30 fps, want >= 15; {summary}"
            );
            let bound = if advance { 150.0 } else { 250.0 };
            ensure!(
                s.p50.is_some_and(|p| p < bound),
                "late: p50 {} ms, want < {bound}; {summary}",
                ms(s.p50)
            );
        }
        Scenario::Slow => {
            let newest = published.last().map(|p| p.1.nearest());
            if advance {
                ensure!(
                    s.drawn == published.len() && s.max.is_some_and(|m| m < 500.0),
                    "newest frame not shown within 500 ms; {summary}"
                );
            } else {
                // Standard framing shows a part once the next one starts
                // (Chromium, WebKit): one interval late, the newest never.
                ensure!(
                    s.drawn + 1 >= published.len(),
                    "frames missing beyond the newest; {summary}"
                );
            }
            let shows_newest = newest == Some(last.colour().nearest());
            return Ok(Outcome::Pass(format!(
                "{summary}; newest shown at the end: {}",
                if shows_newest { "yes" } else { "no" }
            )));
        }
        Scenario::Heartbeat => {
            let only = published.first().map(|p| p.1.nearest());
            ensure!(
                only == Some(last.colour().nearest()) && report.blank_ms == 0,
                "the one frame is not kept on screen; {seen_by_page}"
            );
        }
        Scenario::Finite | Scenario::FiniteRepeat => {
            let final_colour = published.last().map(|p| p.1.nearest());
            ensure!(
                published.len() == 4,
                "{} of 4 frames played",
                published.len()
            );
            ensure!(
                final_colour == Some(last.colour().nearest()),
                "the last frame is not shown at the end (shows {}); {summary}",
                last.colour()
            );
        }
        Scenario::PartHeaders
        | Scenario::Large
        | Scenario::Delimiter
        | Scenario::Small
        | Scenario::SixteenStreams
        | Scenario::SixteenStreamsHttps => {
            let want = if cell.scenario == Scenario::Small {
                5
            } else {
                3
            };
            ensure!(
                drawn >= want,
                "{drawn} frames drawn, want >= {want}; {summary}"
            );
        }
        Scenario::AsServed => {
            return Ok(Outcome::Pass(format!(
                "{} picture changes drawn in {} ms, shown at the end: {}",
                shown.len(),
                cell.scenario.watch().as_millis(),
                last.colour()
            )));
        }
    }
    if cell.scenario == Scenario::SixteenStreams {
        // Fewer is the browser's HTTP/1.1 limit: a documented limit, reported.
        ensure!(
            report.streams_drawn >= report.streams,
            "{} of {} images draw; {summary}",
            report.streams_drawn,
            report.streams
        );
        return Ok(Outcome::Pass(format!(
            "{} of {} images draw; {summary}",
            report.streams_drawn, report.streams
        )));
    }
    if cell.scenario == Scenario::SixteenStreamsHttps {
        return many_streams_at_rate(report, published.len(), &summary);
    }
    Ok(Outcome::Pass(summary))
}

/// Every image drew, each at least half the frames published while the
/// page watched (the source rate, with a margin for a busy machine).
fn many_streams_at_rate(report: &PageReport, published: usize, summary: &str) -> CheckResult {
    let changes = &report.stream_changes;
    let (min, max) = (
        changes.iter().copied().min().unwrap_or(0),
        changes.iter().copied().max().unwrap_or(0),
    );
    let rates = format!(
        "{} of {} images draw; changes per image min {min}, max {max} of {published} published",
        report.streams_drawn, report.streams
    );
    ensure!(
        report.streams_drawn == report.streams && changes.len() == report.streams,
        "{rates}; {summary}"
    );
    ensure!(
        min as usize * 2 >= published,
        "an image drew under half the frames: {rates}; {summary}"
    );
    Ok(Outcome::Pass(format!("{rates}; {summary}")))
}

fn decoder(
    cell: Cell,
    decoded: &crate::clients::decoded::Decoded,
    published: &[(u64, Colour)],
    lat: &[Option<f64>],
) -> CheckResult {
    let s = LatencySummary::of(lat);
    let n = decoded.frames.len();
    let d = decoded.distinct();
    let summary = if published.is_empty() {
        format!("{n} decoded, {d} distinct")
    } else {
        format!(
            "{n} decoded, {d} distinct of {} published; p50 {} ms",
            published.len(),
            ms(s.p50)
        )
    };
    // ffmpeg's mpjpeg demuxer reports the close delimiter as invalid data
    // (a hand-made valid stream gets the same) and still exits 0.
    let errors: Vec<&String> = decoded
        .errors
        .iter()
        .filter(|e| {
            !(cell.client == Client::Ffmpeg
                && decoded.exited
                && e.ends_with("Invalid data found when processing input"))
        })
        .collect();
    ensure!(errors.is_empty(), "errors {errors:?}; {summary}");
    ensure!(n > 0, "nothing decoded; {summary}");
    let want = cell.scenario.decode_count();
    let last = decoded.frames.last().map(|f| f.colour().nearest());
    match cell.scenario {
        Scenario::Live | Scenario::Small => {
            ensure!(
                n == want && d >= want / 3,
                "want {want} decoded, >= {} distinct; {summary}",
                want / 3
            );
        }
        Scenario::Slow => {
            ensure!(
                n == want && last == published.last().map(|p| p.1.nearest()),
                "the newest frame was not decoded; {summary}"
            );
        }
        Scenario::Heartbeat => {
            ensure!(
                n == want && d == 1,
                "want {want} heartbeat copies of the one frame; {summary}"
            );
        }
        Scenario::Finite | Scenario::FiniteRepeat => {
            // The stream ends on its last frame again (the open part is
            // filled with it, never left empty); repeat_final_frame adds one.
            let want = if cell.scenario == Scenario::Finite {
                5
            } else {
                6
            };
            ensure!(
                decoded.exited && published.len() == 4 && n == want && d == 4,
                "want all 4 frames ({want} pictures) then the end; {summary}"
            );
            ensure!(
                last == published.last().map(|p| p.1.nearest()),
                "the last frame decoded is not the last published; {summary}"
            );
        }
        Scenario::PartHeaders | Scenario::Large | Scenario::Delimiter => {
            ensure!(
                n == want && d >= want / 2,
                "want {want} decoded, >= {} distinct; {summary}",
                want / 2
            );
        }
        Scenario::SixteenStreams | Scenario::SixteenStreamsHttps | Scenario::AsServed => {}
    }
    Ok(Outcome::Pass(summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::decoded::Decoded;
    use crate::clients::frame_colour;
    use crate::clients::page::{ImgEvent, PageReport};

    fn seen(t: f64, c: Colour) -> Seen {
        Seen {
            t,
            r: c.r,
            g: c.g,
            b: c.b,
            a: 255,
        }
    }

    /// Four frames 250 ms apart from t = 1000, as the finite scenario plays them.
    fn finite() -> Vec<(u64, Colour)> {
        (0..4)
            .map(|i| (1000 + 250 * i as u64, frame_colour(i)))
            .collect()
    }

    fn page(shown: Vec<Seen>, final_pixel: Option<Seen>, events: Vec<ImgEvent>) -> PageReport {
        PageReport {
            started: 900.0,
            ended: 3000.0,
            samples: 200,
            seen: shown,
            events,
            complete: true,
            final_width: if final_pixel.is_some() { 64 } else { 0 },
            errors: Vec::new(),
            final_pixel,
            thumbnail: None,
            blank_ms: 0,
            streams: 1,
            streams_drawn: 1,
            stream_changes: Vec::new(),
        }
    }

    fn cell(client: Client, scenario: Scenario) -> Cell {
        Cell {
            client,
            scenario,
            framing: Some(Framing::AdvanceHeaders),
        }
    }

    #[test]
    fn sixteen_https_streams_pass_only_all_drawn_at_rate() {
        let published: Vec<(u64, Colour)> = (0..20)
            .map(|i| (1000 + 100 * i as u64, frame_colour(i)))
            .collect();
        let shown: Vec<Seen> = published
            .iter()
            .map(|&(t, c)| seen(t as f64 + 5.0, c))
            .collect();
        let last = shown.last().copied();
        let c = cell(Client::Chromium, Scenario::SixteenStreamsHttps);
        let mut report = page(shown, last, Vec::new());
        report.streams = 16;
        report.streams_drawn = 16;
        report.stream_changes = vec![20; 16];
        let ok = judge(c, &Observed::Page(report.clone()), &published).0;
        assert!(ok.is_ok(), "{ok:?}");
        report.stream_changes[7] = 9; // under half the source rate
        let slow = judge(c, &Observed::Page(report.clone()), &published).0;
        assert!(slow.is_err(), "{slow:?}");
        report.stream_changes[7] = 20;
        report.streams_drawn = 6; // the HTTP/1.1 limit is a failure over HTTPS
        assert!(
            judge(c, &Observed::Page(report.clone()), &published)
                .0
                .is_err()
        );
        // Over HTTP/1.1 the same is the documented limit, not a failure.
        let http1 = cell(Client::Chromium, Scenario::SixteenStreams);
        let limit = judge(http1, &Observed::Page(report), &published).0;
        assert!(
            matches!(&limit, Ok(Outcome::NotApplicable(why)) if why.contains("documented limit")),
            "{limit:?}"
        );
    }

    #[test]
    fn finite_passes_only_with_the_last_frame_on_screen() {
        let published = finite();
        let shown: Vec<Seen> = published
            .iter()
            .map(|&(t, c)| seen(t as f64 + 5.0, c))
            .collect();
        let last = shown.last().copied();
        let c = cell(Client::Firefox, Scenario::Finite);
        let ok = page(shown.clone(), last, Vec::new());
        assert!(judge(c, &Observed::Page(ok), &published).0.is_ok());
        // Blank at the end: nothing drawable, as WebKit does today.
        let blank = page(shown.clone(), None, Vec::new());
        let (result, _) = judge(
            cell(Client::WebKit, Scenario::Finite),
            &Observed::Page(blank),
            &published,
        );
        let err = result.expect_err("a blank end fails");
        assert!(err.contains("nothing shown at the end"), "{err}");
        // The first frame back on screen is not the last one.
        let stale = page(shown, Some(seen(2900.0, frame_colour(0))), Vec::new());
        assert!(judge(c, &Observed::Page(stale), &published).0.is_err());
    }

    #[test]
    fn a_broken_image_fails_whatever_was_drawn() {
        let published = finite();
        let shown = vec![seen(1005.0, frame_colour(0))];
        let events = vec![ImgEvent {
            t: 1300.0,
            kind: "error".into(),
            width: 0,
        }];
        let broken = page(shown, None, events);
        let (result, _) = judge(
            cell(Client::Chromium, Scenario::PartHeaders),
            &Observed::Page(broken),
            &published,
        );
        assert!(result.expect_err("fails").contains("broken image"));
    }

    #[test]
    fn decoders_fail_on_errors_and_missing_frames() {
        let published = finite();
        let mut frames: Vec<Seen> = published
            .iter()
            .map(|&(t, c)| seen(t as f64 + 1.0, c))
            .collect();
        // The stream ends on its last frame again.
        let (t, c) = published[published.len() - 1];
        frames.push(seen(t as f64 + 2.0, c));
        let c = cell(Client::GStreamer, Scenario::Finite);
        let ok = Decoded::new(frames.clone(), "", None, |_| true);
        // Killed at the deadline: the finite stream did not end.
        assert!(judge(c, &Observed::Decoded(ok), &published).0.is_err());
        let mut ended = Decoded::new(frames.clone(), "", None, |_| true);
        ended.exited = true;
        assert!(
            judge(c, &Observed::Decoded(ended.clone()), &published)
                .0
                .is_ok()
        );
        let mut short = ended.clone();
        short.frames.pop();
        assert!(judge(c, &Observed::Decoded(short), &published).0.is_err());
        let mut erred = ended;
        erred.errors.push("ERROR: torn part".into());
        assert!(judge(c, &Observed::Decoded(erred), &published).0.is_err());
    }
}
