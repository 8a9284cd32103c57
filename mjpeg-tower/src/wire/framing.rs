//! [`Framing`]: when each part's headers go out.

/// How parts are framed on the wire.
///
/// Both modes send the delimiter right after each frame (Firefox draws a part
/// once that delimiter arrives). They differ in when the next part's headers go
/// out, which decides when Chrome and Edge draw the frame: they draw a part only
/// after the next part's header block has been parsed (Chromium bug 527446).
///
/// | mode | after each frame | part `Content-Length` | Chrome draws frame n |
/// |---|---|---|---|
/// | [`AdvanceHeaders`](Self::AdvanceHeaders) (default) | delimiter + next part's headers | no | at once |
/// | [`Standard`](Self::Standard) | delimiter | yes | when frame n+1 arrives |
///
/// `AdvanceHeaders` is the default because a live viewer in Chrome would
/// otherwise always be one frame behind (five seconds behind for a camera that
/// sends a frame every five seconds), and ffmpeg, OpenCV, VLC and Firefox all
/// find the part's end by its delimiter when there is no `Content-Length`.
/// Choose `Standard` when clients need `Content-Length` (some embedded
/// parsers do).
///
/// # Frames with their own headers
/// A header block sent ahead cannot carry headers of a frame not yet known.
/// So in `AdvanceHeaders` mode a frame with its own part headers or content
/// type (a timestamp per part, say) goes out as a `Standard` part, with `Content-Length`, and is
/// followed by the delimiter alone: Chrome draws it when the next frame
/// arrives. A stream whose frames all carry their own headers is therefore
/// framed exactly as `Standard`.
///
/// A browser is never sent an empty part (Chrome shows an empty
/// `image/jpeg` part as a broken image, WebKit blanks the picture): when a
/// header block went out ahead and the next frame cannot use it, that
/// announced part carries the previous frame again; when the stream ends
/// there (in either framing), it carries the last frame again before the
/// close delimiter, so the last frame stays on screen.
///
/// # Payloads that contain the delimiter
/// A frame whose payload contains the delimiter line (`--` and the boundary
/// at the start of a line) is never sent and is counted as dropped: RFC 2046
/// forbids it, and browsers cut a part at the delimiter whatever its
/// `Content-Length`, showing a broken image. JPEG data practically never
/// contains the default boundary; pick one your payloads cannot contain.
///
/// # ffmpeg and a slow source
/// ffmpeg's `mpjpeg` demuxer (and OpenCV, which reads through it) hands out
/// a part without `Content-Length` only once more data has arrived (measured
/// with a frame every 2 s: the newest frame is decoded when the next one
/// comes), so with `AdvanceHeaders` a slow source is one frame behind there. For
/// ffmpeg or OpenCV viewers of a slow source, serve them `Standard`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Framing {
    /// `Content-Length` per part, delimiter sent right after each frame.
    Standard,
    /// Delimiter and the next part's header block sent right after each frame.
    #[default]
    AdvanceHeaders,
}
