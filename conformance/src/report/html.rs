//! One self-contained HTML page: the client matrix with each cell's detail,
//! the browsers' images at the end and the decoders' pictures inline, the
//! latency plots as inline SVG (drawn by `plotters`), and the check table.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::{Row, clients_of, detail, rows_of, status, summary};
use crate::matrix::{CellReport, Client};

/// `s` escaped for HTML text and attributes.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}\
th{background:#f4f4f4;text-align:left}.pass{background:#e6f4e6}.fail{background:#fbe3e3}.skip{background:#f1f1f1;color:#666}\
.detail{font-size:11px;max-width:16em}img.thumb{width:64px;height:48px;image-rendering:pixelated;border:1px solid #999;display:block}\
.strip{display:flex;flex-wrap:wrap;max-width:16em}.strip span{width:8px;height:14px;display:inline-block}\
figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:12px}";

/// The page for a run against `target`.
pub fn page(target: &str, rows: &[Row], cells: &[CellReport]) -> String {
    let (pass, fail, skip) = summary(rows, cells);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>mjpeg-tower conformance</title>\
         <style>{STYLE}</style></head><body>\n<h1>mjpeg-tower conformance</h1>\n\
         <p>Target: <code>{}</code>. {pass} passed, {fail} failed, {skip} skipped.</p>\n",
        esc(target)
    );
    if !cells.is_empty() {
        out.push_str("<h2>Client matrix</h2>\n");
        matrix(&mut out, cells);
        out.push_str("<h2>Publish-to-display latency</h2>\n<p>Per published frame, in ms (browsers: drawn; decoders: decoded). A gap is a frame never shown.</p>\n");
        for row in rows_of(cells) {
            let series: Vec<(Client, Vec<Option<f64>>)> = cells
                .iter()
                .filter(|c| c.cell.row() == row && !c.evidence.latencies.is_empty())
                .map(|c| (c.cell.client, c.evidence.latencies.clone()))
                .collect();
            if series.iter().any(|(_, l)| l.iter().any(Option::is_some)) {
                let _ = writeln!(
                    out,
                    "<figure>{}<figcaption>{}</figcaption></figure>",
                    plot(&row, &series),
                    esc(&row)
                );
            }
        }
    }
    if !rows.is_empty() {
        out.push_str("<h2>Checks</h2>\n");
        checks(&mut out, rows);
    }
    out.push_str("</body></html>\n");
    out
}

fn matrix(out: &mut String, cells: &[CellReport]) {
    let clients = clients_of(cells);
    out.push_str("<table><tr><th>scenario / framing</th>");
    for c in &clients {
        let _ = write!(out, "<th>{}</th>", c.name());
    }
    out.push_str("</tr>\n");
    for row in rows_of(cells) {
        let _ = write!(out, "<tr><th>{}</th>", esc(&row));
        for client in &clients {
            let Some(c) = cells
                .iter()
                .find(|c| c.cell.client == *client && c.cell.row() == row)
            else {
                out.push_str("<td>-</td>");
                continue;
            };
            let s = status(&c.result);
            let _ = write!(out, "<td class=\"{s}\"><b>{s}</b>");
            if let Some(src) = &c.evidence.thumbnail
                && src.starts_with("data:image/")
            {
                let _ = write!(
                    out,
                    "<img class=\"thumb\" alt=\"shown at the end\" src=\"{}\">",
                    esc(src)
                );
            }
            if !c.evidence.decoded.is_empty() {
                out.push_str("<div class=\"strip\" title=\"decoded pictures\">");
                for colour in c.evidence.decoded.iter().take(40) {
                    let _ = write!(out, "<span style=\"background:{colour}\"></span>");
                }
                out.push_str("</div>");
            }
            let _ = write!(
                out,
                "<div class=\"detail\">{}</div></td>",
                esc(detail(&c.result))
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn checks(out: &mut String, rows: &[Row]) {
    let mut targets: Vec<&str> = rows.iter().map(|r| r.target).collect();
    targets.dedup();
    targets.sort_unstable();
    targets.dedup();
    let mut names: Vec<&str> = rows.iter().map(|r| r.check).collect();
    names.dedup();
    out.push_str("<table><tr><th>check</th>");
    for t in &targets {
        let _ = write!(out, "<th>{t}</th>");
    }
    out.push_str("</tr>\n");
    for name in names {
        let _ = write!(out, "<tr><th>{name}</th>");
        for t in &targets {
            match rows.iter().find(|r| r.check == name && r.target == *t) {
                Some(r) => {
                    let s = r.status();
                    let _ = write!(
                        out,
                        "<td class=\"{s}\" title=\"{}\"><b>{s}</b><div class=\"detail\">{}</div></td>",
                        esc(detail(&r.result)),
                        esc(detail(&r.result))
                    );
                }
                None => out.push_str("<td>-</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// An SVG line chart: one line per client, frame number against latency.
pub fn plot(title: &str, series: &[(Client, Vec<Option<f64>>)]) -> String {
    let mut svg = String::new();
    let drawn = draw(&mut svg, title, series);
    match drawn {
        Ok(()) => svg,
        Err(e) => format!("<p>plot failed: {}</p>", esc(&e)),
    }
}

fn draw(
    svg: &mut String,
    title: &str,
    series: &[(Client, Vec<Option<f64>>)],
) -> Result<(), String> {
    let frames = series
        .iter()
        .map(|(_, l)| l.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let top = series
        .iter()
        .flat_map(|(_, l)| l.iter().flatten())
        .fold(10.0f64, |a, &b| a.max(b))
        * 1.1;
    let root = SVGBackend::with_string(svg, (420, 240)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 14))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..(frames - 1) as f64, 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("frame")
        .y_desc("ms")
        .x_labels(frames.min(10))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|e| e.to_string())?;
    for (client, lat) in series {
        // The same colour for a client in every chart.
        let index = Client::ALL.iter().position(|c| c == client).unwrap_or(0);
        let colour = COLOURS[index % COLOURS.len()];
        // A line per run of drawn frames: a missed frame breaks it.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (n, l) in lat.iter().enumerate() {
            match l {
                Some(ms) => runs.last_mut().map_or((), |r| r.push((n as f64, *ms))),
                None => runs.push(Vec::new()),
            }
        }
        let points: Vec<(f64, f64)> = runs.iter().flatten().copied().collect();
        chart
            .draw_series(PointSeries::of_element(
                points,
                3,
                colour.filled(),
                &|c, s, st| Circle::new(c, s, st),
            ))
            .map_err(|e| e.to_string())?;
        let mut first = true;
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let line = chart
                .draw_series(LineSeries::new(run, colour.stroke_width(2)))
                .map_err(|e| e.to_string())?;
            if first {
                line.label(client.name()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2))
                });
                first = false;
            }
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_is_inline_svg_with_a_line_per_client() {
        let svg = plot(
            "live",
            &[
                (
                    Client::Chromium,
                    vec![Some(5.0), Some(7.0), None, Some(6.0)],
                ),
                (
                    Client::Firefox,
                    vec![Some(9.0), Some(8.0), Some(10.0), Some(9.0)],
                ),
            ],
        );
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("chromium") && svg.contains("firefox"));
        assert!(svg.matches("<polyline").count() >= 3, "a gap splits a line");
        assert_eq!(
            svg.matches("<circle").count(),
            7,
            "a marker per drawn frame"
        );
    }

    #[test]
    fn page_escapes_details() {
        let rows = [Row {
            check: "c",
            target: "axum",
            result: Err("<script>".into()),
            elapsed: std::time::Duration::ZERO,
        }];
        let html = page("t", &rows, &[]);
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(html.contains("0 passed, 1 failed"));
    }
}
