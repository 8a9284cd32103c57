//! The viewer page: an `<img>` on the stream, sampled into a canvas every
//! 10 ms; each change of the centre pixel is recorded with `Date.now()` and
//! the results are POSTed back as JSON ([`PageReport`]).
//!
//! The page stops after `ms` milliseconds, or once it has seen `changes`
//! colour changes (`0`: no limit). Both default to the [`PageOptions`] the
//! page was made with and can be overridden by the query string, e.g.
//! `/page?ms=4000&changes=5`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ClientError, Seen};

/// What the page is made with.
#[derive(Clone, Debug)]
pub struct PageOptions {
    /// The `src` of the image: the MJPEG stream. The image is loaded with
    /// `crossorigin="anonymous"`, so a stream on another origin must send
    /// `Access-Control-Allow-Origin` for the canvas to be readable.
    pub stream_url: String,
    /// Where the page POSTs its [`PageReport`] (same origin).
    pub report_url: String,
    /// How long the page watches.
    pub duration: Duration,
    /// Stop early after this many colour changes (`0`: never).
    pub max_changes: usize,
}

impl PageOptions {
    /// Watches `stream_url` for `duration`, reporting to `/report`.
    pub fn new(stream_url: impl Into<String>, duration: Duration) -> Self {
        Self {
            stream_url: stream_url.into(),
            report_url: "/report".to_owned(),
            duration,
            max_changes: 0,
        }
    }
}

/// A load or error event of the image element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImgEvent {
    /// When (`Date.now()`, unix ms).
    pub t: f64,
    /// `"load"` or `"error"`.
    pub kind: String,
    /// `naturalWidth` of the image then (0: nothing decodable to show).
    pub width: u32,
}

/// What the page reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageReport {
    /// When the script started (unix ms).
    pub started: f64,
    /// When it stopped watching (unix ms).
    pub ended: f64,
    /// Times the pixel was sampled (to tell a throttled timer from a stalled image).
    pub samples: u64,
    /// Each change of the drawn colour, in order.
    pub seen: Vec<Seen>,
    /// Load and error events of the image.
    pub events: Vec<ImgEvent>,
    /// `img.complete` at the end.
    pub complete: bool,
    /// `img.naturalWidth` at the end (0: broken or never loaded).
    pub final_width: u32,
    /// Exceptions while sampling (e.g. `drawImage` on a broken image).
    pub errors: Vec<String>,
}

impl PageReport {
    /// Parses the JSON the page POSTs.
    ///
    /// # Errors
    /// [`ClientError::BadOutput`] if the body is not a report.
    pub fn parse(body: &[u8]) -> Result<Self, ClientError> {
        serde_json::from_slice(body)
            .map_err(|e| ClientError::BadOutput("viewer page", format!("bad report: {e}")))
    }

    /// Distinct colours drawn.
    pub fn distinct_colours(&self) -> usize {
        let mut colours: Vec<_> = self.seen.iter().map(Seen::colour).collect();
        colours.sort_by_key(|c| (c.r, c.g, c.b));
        colours.dedup();
        colours.len()
    }
}

/// A JSON literal that is also safe inside `<script>`.
fn js_string(s: &str) -> String {
    serde_json::Value::from(s)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
}

/// `s` escaped for a double-quoted HTML attribute.
fn attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The page's HTML.
pub fn html(options: &PageOptions) -> String {
    let script = SCRIPT
        .replace("__REPORT__", &js_string(&options.report_url))
        .replace("__MS__", &options.duration.as_millis().to_string())
        .replace("__CHANGES__", &options.max_changes.to_string());
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>mjpeg viewer</title></head>\n\
         <body style=\"margin:0\">\n<img id=\"v\" crossorigin=\"anonymous\" src=\"{}\" alt=\"stream\">\n<script>\n{script}</script>\n\
         </body></html>\n",
        attr(&options.stream_url)
    )
}

const SCRIPT: &str = r#"(() => {
  const q = new URLSearchParams(location.search);
  const ms = Number(q.get('ms') || __MS__);
  const maxChanges = Number(q.get('changes') || __CHANGES__);
  const img = document.getElementById('v');
  const canvas = document.createElement('canvas');
  canvas.width = 8;
  canvas.height = 8;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const started = Date.now();
  const seen = [], events = [], errors = [];
  let samples = 0, last = '', done = false;
  const onEvent = (kind) => () =>
    events.push({ t: Date.now(), kind, width: img.naturalWidth });
  img.addEventListener('load', onEvent('load'));
  img.addEventListener('error', onEvent('error'));
  const finish = () => {
    done = true;
    clearInterval(timer);
    const report = {
      started, ended: Date.now(), samples, seen, events, errors,
      complete: img.complete, final_width: img.naturalWidth,
    };
    fetch(__REPORT__, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(report),
    }).catch((e) => console.error('report failed', e));
  };
  const sample = () => {
    if (done) return;
    samples++;
    const now = Date.now();
    if (img.naturalWidth > 0) {
      try {
        ctx.drawImage(img, 0, 0, 8, 8);
        const d = ctx.getImageData(4, 4, 1, 1).data;
        const key = d[0] + ',' + d[1] + ',' + d[2];
        if (key !== last) {
          last = key;
          seen.push({ t: now, r: d[0], g: d[1], b: d[2] });
        }
      } catch (e) {
        if (errors.length < 20) errors.push(String(e));
      }
    }
    if (now - started >= ms || (maxChanges > 0 && seen.length >= maxChanges)) finish();
  };
  const timer = setInterval(sample, 10);
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_embeds_options_escaped() {
        let mut options = PageOptions::new("/stream?a=1&b=\"2\"", Duration::from_secs(4));
        options.report_url = "/r</script>".to_owned();
        options.max_changes = 7;
        let page = html(&options);
        assert!(page.contains(
            r#"<img id="v" crossorigin="anonymous" src="/stream?a=1&amp;b=&quot;2&quot;""#
        ));
        assert!(page.contains("|| 4000)") && page.contains("|| 7)"));
        assert!(page.contains(r#"fetch("/r\u003c/script\u003e""#));
        assert_eq!(page.matches("</script>").count(), 1);
    }

    #[test]
    fn report_parses() {
        let body = br#"{"started":1,"ended":2,"samples":3,"seen":[{"t":1.5,"r":255,"g":0,"b":128}],
            "events":[{"t":2,"kind":"load","width":64}],"errors":[],"complete":true,"final_width":64}"#;
        let report = PageReport::parse(body).expect("parses");
        assert_eq!(report.distinct_colours(), 1);
        assert_eq!(report.events[0].kind, "load");
        assert!(PageReport::parse(b"{}").is_err());
    }
}
