//! The HTML page each example serves at `/`: the stream in an `<img>`, and
//! optionally live statistics fetched from `/stats` every second.

/// A viewer page.
///
/// ```
/// use mjpeg_example_scenery::page::Page;
///
/// let html = Page::new("sine").intro("A <moving> wave.").stats(true).render();
/// assert!(html.contains(r#"<img src="/stream""#));
/// assert!(html.contains("A &lt;moving&gt; wave."));
/// assert!(html.contains("fetch('/stats')"));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Page {
    title: String,
    intro: String,
    image: String,
    stats: bool,
}

impl Page {
    /// A page titled `title` showing `/stream`, without statistics.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            intro: String::new(),
            image: "/stream".to_owned(),
            stats: false,
        }
    }

    /// A sentence shown under the title (escaped).
    pub fn intro(mut self, text: impl Into<String>) -> Self {
        self.intro = text.into();
        self
    }

    /// The path of the stream shown in the `<img>` (default `/stream`).
    pub fn image(mut self, path: impl Into<String>) -> Self {
        self.image = path.into();
        self
    }

    /// Shows live statistics from `/stats` under the image.
    pub fn stats(mut self, enabled: bool) -> Self {
        self.stats = enabled;
        self
    }

    /// The HTML document.
    pub fn render(&self) -> String {
        let title = escape(&self.title);
        let intro = escape(&self.intro);
        let image = escape(&self.image);
        let stats = if self.stats { STATS } else { "" };
        format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
             <h1>{title}</h1>\n<p>{intro}</p>\n\
             <img src=\"{image}\" alt=\"live MJPEG stream\">\n{stats}</body>\n</html>\n"
        )
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;background:#f4f4f4}\
                     img{display:block;max-width:100%;border:1px solid #999;background:#222}\
                     #stats{font-family:monospace}";

/// Polls `/stats` once a second and shows one line of it.
const STATS: &str = r#"<p id="stats">stats: loading…</p>
<script>
const line = document.getElementById('stats');
async function refresh() {
  try {
    const s = await (await fetch('/stats')).json();
    line.textContent = `viewers ${s.viewers} · published ${s.frames_published} · `
      + `sent ${s.frames_sent} · dropped ${s.frames_dropped} · ${s.status}`;
  } catch (e) {
    line.textContent = 'stats unavailable';
  }
}
refresh();
setInterval(refresh, 1000);
</script>
"#;

/// Escapes text for HTML element content and quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_stats_there_is_no_script() {
        let html = Page::new("lights").image("/lights").render();
        assert!(html.contains(r#"<img src="/lights""#));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn attributes_are_escaped() {
        let html = Page::new("t").image("/a\"b").render();
        assert!(html.contains(r#"src="/a&quot;b""#));
    }
}
