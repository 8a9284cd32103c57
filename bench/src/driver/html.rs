//! `--html PATH`: one self-contained page with the table, the targets, inline
//! SVG plots and the flame graph, for a reader who runs nothing.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::flame::Flame;
use super::plots;
use super::report::Report;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// What the page shows besides the report itself.
pub(super) struct Page<'a> {
    pub(super) report: &'a Report,
    pub(super) table: &'a str,
    pub(super) targets: &'a str,
    pub(super) transports: &'a str,
    pub(super) side: &'a str,
    pub(super) notes: &'a [String],
    pub(super) command: &'a str,
    pub(super) total: Duration,
    pub(super) load_before: &'a str,
    pub(super) flame: Option<&'a Flame>,
}

pub(super) fn write_html(path: &Path, p: &Page<'_>) -> Result<(), String> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <title>mjpeg-tower benchmark</title><style>\
         body{{font-family:sans-serif;max-width:1180px;margin:1em auto;padding:0 1em;color:#222}}\
         pre{{font-size:11px;overflow-x:auto;background:#f6f6f6;padding:8px}}\
         figure{{margin:1em 0}} figcaption{{font-size:13px;color:#555;max-width:760px}}\
         </style></head><body><h1>mjpeg-tower benchmark</h1>\
         <p>Command: <code>{}</code>; {:.0} s in all. Load average of the machine before the run: \
         {}. Server and load generator are separate processes on the same machine; CPU is the \
         server process's, from <code>/proc</code>. Figures from one run: ratios within the run \
         mean more than absolute numbers, which move with whatever else the machine does.</p>",
        esc(p.command),
        p.total.as_secs_f64(),
        esc(p.load_before),
    );
    let plots = [
        (
            plots::cpu_vs_viewers(p.report)?,
            "Server CPU against viewers for mjpeg-tower and the raw-TCP ceiling (a tokio server \
             writing the same bytes with writev): the gap is what the library costs.",
        ),
        (
            plots::latency(p.report)?,
            "Latency quantiles from publish to the part parsed by the load generator. Above a few \
             ms this is mostly the shared cores being busy (the load generator reads 1.5 GB/s).",
        ),
        (
            plots::rss_per_viewer(p.report)?,
            "Server RSS growth divided by connected viewers (target: at most 8 KiB).",
        ),
    ];
    h.push_str("<h2>Plots</h2>");
    for (svg, caption) in plots {
        if let Some(svg) = svg {
            let _ = write!(
                h,
                "<figure>{svg}<figcaption>{caption}</figcaption></figure>"
            );
        }
    }
    h.push_str("<h2>Where the server's time goes</h2>");
    match p.flame {
        Some(Flame::Svg(svg)) => {
            // As an image: inferno's script expects the SVG to be its own document.
            let _ = write!(
                h,
                "<p>The axum server with 1000 viewers x 30 fps x 50 KB (default framing), sampled \
                 by <code>perf record -F 499 --call-graph dwarf</code> during a window of its own \
                 and drawn with inferno. Width is the share of samples (hover for names in a \
                 browser that opens the image on its own). Kernel frames (TCP send) appear only \
                 where the kernel lets perf see them.</p>\
                 <figure><img style=\"width:100%\" alt=\"flame graph\" \
                 src=\"data:image/svg+xml;base64,{}\"></figure>",
                base64(svg.as_bytes())
            );
        }
        Some(Flame::Unavailable(why)) => {
            let _ = write!(h, "<p><b>No flame graph:</b> {}</p>", esc(why));
        }
        None => h.push_str("<p>No flame graph in this run.</p>"),
    }
    let _ = write!(
        h,
        "<h2>Table</h2><pre>{}</pre><pre>{}</pre>",
        esc(p.table),
        esc(p.targets)
    );
    if !p.side.is_empty() {
        let _ = write!(h, "<pre>{}</pre>", esc(p.side));
    }
    if !p.transports.is_empty() {
        let _ = write!(h, "<pre>{}</pre>", esc(p.transports));
    }
    h.push_str("<h2>How it was measured</h2><ul>");
    for n in p.notes {
        let _ = write!(h, "<li>{}</li>", esc(n));
    }
    h.push_str("</ul></body></html>\n");
    std::fs::write(path, h).map_err(|e| format!("{}: {e}", path.display()))
}

/// Standard base64 with padding (RFC 4648), for a data URI.
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), enc);
        }
    }
}
