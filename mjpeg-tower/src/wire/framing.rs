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
/// parsers do) or when most frames carry their own headers (a timestamp per
/// part, say): in `AdvanceHeaders` mode such a frame cannot use the header
/// block sent ahead and goes out as a part of its own after an empty part,
/// which parsers skip but which costs a few bytes per frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Framing {
    /// `Content-Length` per part, delimiter sent right after each frame.
    Standard,
    /// Delimiter and the next part's header block sent right after each frame.
    #[default]
    AdvanceHeaders,
}
