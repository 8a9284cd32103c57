//! The page's plots, drawn with `plotters` as SVG text: server CPU against
//! viewers, latency quantiles, RSS per viewer.

use plotters::prelude::*;

use super::measure::{Measured, Outcome};
use super::plan::{FRAME, Mode, Scenario, Transport};
use super::report::Report;
use crate::server::Kind;

type Res<T> = Result<T, String>;

fn e<E: std::fmt::Display>(err: E) -> String {
    format!("plot: {err}")
}

const SIZE: (u32, u32) = (760, 380);

fn color(i: usize) -> RGBColor {
    const C: [RGBColor; 10] = [
        RGBColor(90, 90, 90),
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(23, 190, 207),
        RGBColor(188, 189, 34),
        RGBColor(227, 119, 194),
    ];
    C[i % C.len()]
}

/// Every scenario measured, first runs only (`--repeat` adds more of one
/// load), without the ceiling's closing runs.
fn done(r: &Report) -> impl Iterator<Item = (&Scenario, &Measured)> {
    r.outcomes.iter().filter_map(|(s, o)| match o {
        Outcome::Done(m) if s.run == 0 && !s.closing => Some((s, &**m)),
        _ => None,
    })
}

fn short(sc: &Scenario) -> String {
    sc.name().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Server CPU (% of one core) against viewers, paced 30 fps, plain HTTP/1.1,
/// one line per server; `None` when fewer than two viewer counts ran.
pub(super) fn cpu_vs_viewers(r: &Report) -> Res<Option<String>> {
    let mut series: Vec<(Kind, Vec<(f64, f64)>)> = Vec::new();
    for kind in [Kind::Raw, Kind::Axum, Kind::Warp] {
        let mut pts: Vec<(f64, f64)> = done(r)
            .filter(|(s, _)| {
                s.kind == kind
                    && s.mode == Mode::Paced
                    && s.fps == 30.0
                    && s.size == FRAME
                    && s.slow == 0
                    && !s.standard
                    && s.transport == Transport::Plain
            })
            // The ceiling as the hub rows are compared with it: the mean
            // of its runs where the load was bracketed.
            .map(|(s, m)| {
                let cpu = if s.kind == Kind::Raw {
                    r.ceiling_mean(s).map_or(m.cpu_pct, |c| c.cpu_pct)
                } else {
                    m.cpu_pct
                };
                (s.viewers as f64, cpu)
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        if pts.len() >= 2 {
            series.push((kind, pts));
        }
    }
    if series.is_empty() {
        return Ok(None);
    }
    let ymax = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.1))
        .fold(1.0f64, f64::max)
        * 1.2;
    let xmax = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.0))
        .fold(1.0f64, f64::max)
        * 1.05;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Server CPU vs viewers (paced, 30 fps x 50 KB, plain HTTP/1.1)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..xmax, 0f64..ymax)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("viewers")
            .y_desc("server CPU, % of one core")
            .draw()
            .map_err(e)?;
        for (i, (kind, pts)) in series.iter().enumerate() {
            let c = color(i);
            let label = if *kind == Kind::Raw {
                "raw TCP ceiling".to_owned()
            } else {
                format!("mjpeg-tower ({})", kind.name())
            };
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(e)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(e)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .draw()
            .map_err(e)?;
        root.present().map_err(e)?;
    }
    Ok(Some(svg))
}

/// Latency quantiles (p50, p99, p99.9, max; publish to parsed, in ms, log
/// scale) of every paced run with about 1000 viewers.
pub(super) fn latency(r: &Report) -> Res<Option<String>> {
    let series: Vec<(String, [f64; 4])> = done(r)
        .filter(|(s, _)| s.mode == Mode::Paced && s.viewers >= 1000 && s.viewers < 2000)
        .map(|(s, m)| {
            let q = |k: &str| m.load[k].as_f64().unwrap_or(0.0) / 1000.0;
            (
                short(s),
                [
                    q("lat_p50_us"),
                    q("lat_p99_us"),
                    q("lat_p999_us"),
                    q("lat_max_us"),
                ],
            )
        })
        .collect();
    if series.is_empty() {
        return Ok(None);
    }
    let ymax = series
        .iter()
        .flat_map(|(_, q)| q.iter().copied())
        .fold(1.0f64, f64::max)
        * 2.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Latency, publish to parsed by the viewer (about 1000 viewers, 30 fps)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(-0.2f64..3.2f64, (0.05f64..ymax).log_scale())
            .map_err(e)?;
        let names = ["p50", "p99", "p99.9", "max"];
        chart
            .configure_mesh()
            .x_labels(4)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && (0.0..4.0).contains(&i) {
                    names[i as usize].to_owned()
                } else {
                    String::new()
                }
            })
            .x_desc("quantile")
            .y_desc("ms (log scale)")
            .draw()
            .map_err(e)?;
        for (i, (name, q)) in series.iter().enumerate() {
            let c = color(i);
            let pts: Vec<(f64, f64)> = q
                .iter()
                .enumerate()
                .map(|(j, &v)| (j as f64, v.max(0.05)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(e)?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                .map_err(e)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .draw()
            .map_err(e)?;
        root.present().map_err(e)?;
    }
    Ok(Some(svg))
}

/// RSS growth per connected viewer (KiB) of every run with 100 viewers or more.
pub(super) fn rss_per_viewer(r: &Report) -> Res<Option<String>> {
    let bars: Vec<(String, f64)> = done(r)
        .filter(|(s, _)| s.total() >= 100 && s.mode != Mode::Unpaced)
        .map(|(s, m)| (short(s), m.rss_per_viewer_kib.max(0.0)))
        .collect();
    if bars.is_empty() {
        return Ok(None);
    }
    let xmax = bars.iter().map(|b| b.1).fold(1.0f64, f64::max) * 1.6;
    let n = bars.len();
    let mut svg = String::new();
    {
        let height = 80 + 26 * n as u32;
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Server RSS growth per connected viewer (paced and slow runs)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(10)
            .build_cartesian_2d(0f64..xmax, 0f64..n as f64)
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_desc("KiB per viewer")
            .draw()
            .map_err(e)?;
        for (i, (name, v)) in bars.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let c = if name.starts_with("raw") {
                color(0)
            } else {
                color(1)
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y + 0.15), (*v, y + 0.85)],
                    c.mix(0.7).filled(),
                )))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{v:.1}  {name}"),
                    (*v + xmax * 0.01, y + 0.75),
                    ("sans-serif", 13),
                )))
                .map_err(e)?;
        }
        root.present().map_err(e)?;
    }
    Ok(Some(svg))
}
