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
    /// Where the page POSTs its [`PageReport`] (any origin: a simple
    /// `no-cors` request).
    pub report_url: String,
    /// How long the page watches.
    pub duration: Duration,
    /// Stop early after this many colour changes (`0`: never).
    pub max_changes: usize,
    /// How many images show the stream (each with its own query string, so
    /// the browser opens a connection for each); the first is sampled for
    /// every colour change, the others for how many changes they drew.
    pub streams: usize,
    /// Serve the page (and the stream it passes through) over HTTPS with a
    /// test certificate, ALPN `h2` and `http/1.1`.
    pub https: bool,
}

impl PageOptions {
    /// Watches `stream_url` for `duration`, reporting to `/report`.
    pub fn new(stream_url: impl Into<String>, duration: Duration) -> Self {
        Self {
            stream_url: stream_url.into(),
            report_url: "/report".to_owned(),
            duration,
            max_changes: 0,
            streams: 1,
            https: false,
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
    /// The pixel shown when the page stopped watching (`None`: nothing
    /// could be drawn: a broken or missing image).
    #[serde(default)]
    pub final_pixel: Option<Seen>,
    /// The image as shown at the end, as a PNG `data:` URL.
    #[serde(default)]
    pub thumbnail: Option<String>,
    /// Milliseconds with nothing to show after a frame had been drawn.
    #[serde(default)]
    pub blank_ms: u64,
    /// Images on the page.
    #[serde(default)]
    pub streams: usize,
    /// Images that showed a frame at some point.
    #[serde(default)]
    pub streams_drawn: usize,
    /// Colour changes each image drew (the first: the changes in `seen`).
    #[serde(default)]
    pub stream_changes: Vec<u32>,
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
    let images: String = (0..options.streams.max(1))
        .map(|n| {
            let src = match n {
                0 => options.stream_url.clone(),
                n if options.stream_url.contains('?') => format!("{}&n={n}", options.stream_url),
                n => format!("{}?n={n}", options.stream_url),
            };
            format!(
                "<img class=\"v\" crossorigin=\"anonymous\" src=\"{}\" alt=\"stream {n}\">\n",
                attr(&src)
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>mjpeg viewer</title></head>\n\
         <body style=\"margin:0\">\n{images}<script>\n{script}</script>\n\
         </body></html>\n"
    )
}

const SCRIPT: &str = r#"(() => {
  const q = new URLSearchParams(location.search);
  const ms = Number(q.get('ms') || __MS__);
  const maxChanges = Number(q.get('changes') || __CHANGES__);
  const imgs = Array.from(document.querySelectorAll('img.v'));
  const img = imgs[0];
  const canvas = document.createElement('canvas');
  canvas.width = 8;
  canvas.height = 8;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const started = Date.now();
  const seen = [], events = [], errors = [], drawn = imgs.map(() => false);
  const changes = imgs.map(() => 0), lastKeys = imgs.map(() => '');
  let samples = 0, last = '', done = false, busy = 0, blankMs = 0, lastTick = started;
  const onEvent = (kind) => () =>
    events.push({ t: Date.now(), kind, width: img.naturalWidth });
  img.addEventListener('load', onEvent('load'));
  img.addEventListener('error', onEvent('error'));
  // Firefox draws a stale first part of a multipart image into a canvas;
  // an ImageBitmap of the element holds the part on screen (it rejects
  // between parts: that sample is skipped).
  const source = async (el = img) =>
    typeof createImageBitmap === 'function' ? await createImageBitmap(el) : el;
  const pixel = (src) => {
    ctx.clearRect(0, 0, 8, 8);
    ctx.drawImage(src, 0, 0, 8, 8);
    return ctx.getImageData(4, 4, 1, 1).data;
  };
  // Settles within `ms` milliseconds whatever `p` does (a hung decode).
  const within = (p, ms) => Promise.race([
    p, new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), ms)),
  ]);
  const finish = async () => {
    if (done) return;
    done = true;
    clearInterval(timer);
    let final_pixel = null, thumbnail = null;
    try {
      const src = await within(source(), 1000);
      const d = pixel(src);
      final_pixel = { t: Date.now(), r: d[0], g: d[1], b: d[2], a: d[3] };
      const thumb = document.createElement('canvas');
      thumb.width = Math.min(img.naturalWidth, 160) || 1;
      thumb.height = Math.max(1, Math.round(thumb.width * img.naturalHeight / (img.naturalWidth || 1)));
      thumb.getContext('2d').drawImage(src, 0, 0, thumb.width, thumb.height);
      thumbnail = thumb.toDataURL('image/png');
    } catch (e) {
      if (errors.length < 20) errors.push('final sample: ' + String(e));
    }
    const report = {
      started, ended: Date.now(), samples, seen, events, errors,
      complete: img.complete, final_width: img.naturalWidth,
      final_pixel, thumbnail, blank_ms: blankMs,
      streams: imgs.length, streams_drawn: drawn.filter((d) => d).length,
      stream_changes: imgs.map((_, i) => (i === 0 ? seen.length : changes[i])),
    };
    // Close the streams first: with six of them open, the browser's
    // connections to this origin are all taken and the report would wait.
    imgs.forEach((el) => el.removeAttribute('src'));
    window.stop();
    // A simple no-cors request: the report may go to another origin (whose
    // connections the streams do not hold), without a preflight.
    fetch(__REPORT__, {
      method: 'POST',
      mode: 'no-cors',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(report),
    }).catch((e) => console.error('report failed', e));
  };
  const sample = async () => {
    const now = Date.now();
    if (done || (busy && now - busy < 1000)) return;
    busy = now;
    samples++;
    imgs.forEach((el, i) => { if (el.naturalWidth > 0) drawn[i] = true; });
    if (img.naturalWidth > 0) {
      let src = null;
      try {
        src = await within(source(), 1000);
      } catch (e) {
        src = null;
      }
      try {
        if (src) {
          const d = pixel(src);
          const key = d[0] + ',' + d[1] + ',' + d[2] + ',' + d[3];
          if (key !== last) {
            last = key;
            seen.push({ t: now, r: d[0], g: d[1], b: d[2], a: d[3] });
          }
        }
      } catch (e) {
        if (errors.length < 20) errors.push(String(e));
      }
    } else if (seen.length > 0) {
      blankMs += now - lastTick;
    }
    // The other images: count the changes each drew.
    for (let i = 1; i < imgs.length; i++) {
      if (imgs[i].naturalWidth === 0) continue;
      try {
        const d = pixel(await within(source(imgs[i]), 1000));
        const key = d[0] + ',' + d[1] + ',' + d[2];
        if (key !== lastKeys[i]) {
          lastKeys[i] = key;
          changes[i]++;
        }
      } catch (e) {
        // Between parts: skip this sample, as for the first image.
      }
    }
    lastTick = now;
    busy = 0;
    // For a driver asking what a page that never reported was doing.
    window.mjpegState = { samples, drawn: seen.length, events: events.length, errors: errors.length };
    if (maxChanges > 0 && seen.length >= maxChanges) finish();
  };
  const timer = setInterval(sample, 10);
  setTimeout(finish, ms);
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
            r#"<img class="v" crossorigin="anonymous" src="/stream?a=1&amp;b=&quot;2&quot;""#
        ));
        assert!(page.contains("|| 4000)") && page.contains("|| 7)"));
        assert!(page.contains(r#"fetch("/r\u003c/script\u003e""#));
        assert_eq!(page.matches("</script>").count(), 1);
        options.streams = 3;
        let page = html(&options);
        assert_eq!(page.matches("<img ").count(), 3);
        assert!(page.contains(r#"src="/stream?a=1&amp;b=&quot;2&quot;&amp;n=2""#));
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
