//! [`Cursor`]: where one viewer's wire stands between parts, and the chunks
//! that continue it.
//!
//! Browsers draw what a part holds, even nothing: Chromium shows an empty
//! `image/jpeg` part as a broken image, and WebKit blanks the picture when a
//! stream ends on one. A header block sent ahead (`AdvanceHeaders`) opens a
//! part before its frame is known, so the cursor never leaves such a part
//! empty:
//! - the next frame fits the announced headers: only its payload and tail go out;
//! - it does not (its own headers or content type, or a payload containing
//!   the delimiter): the announced part gets the previous frame again, then
//!   the new frame goes out as a complete part;
//! - the stream ends: the open part gets the last frame again (its payload
//!   when its headers were announced, the whole part after a bare
//!   delimiter), then the close delimiter, so the last frame stays on screen.
//!   WebKit blanks the picture on an empty last part in either framing.

use std::sync::Arc;

use bytes::Bytes;

use crate::wire::encoder::{EncodedPart, PartEncoder};

/// One viewer's position on the wire.
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    /// A part's header block went out ahead: the next bytes must be a payload.
    announced: bool,
    /// The last frame sent, to fill a part that would otherwise be empty.
    /// Shared with the frame, not copied: each viewer takes one reference
    /// per frame rather than one per chunk.
    last: Option<Arc<EncodedPart>>,
}

impl Cursor {
    /// The first bytes of the body.
    pub(crate) fn opening(&mut self, encoder: &PartEncoder, out: &mut impl Extend<Bytes>) {
        self.announced = false;
        out.extend([encoder.opening()]);
    }

    /// The chunks that send `part` from where the wire stands.
    pub(crate) fn frame(
        &mut self,
        encoder: &PartEncoder,
        part: Arc<EncodedPart>,
        out: &mut impl Extend<Bytes>,
    ) {
        if self.continues(&part) {
            out.extend([part.payload.clone(), part.tail.clone()]);
        } else if self.announced {
            out.extend([
                self.last_payload(),
                encoder.next_part(),
                part.head.clone(),
                part.payload.clone(),
                part.tail.clone(),
            ]);
        } else {
            out.extend([part.head.clone(), part.payload.clone(), part.tail.clone()]);
        }
        self.take(part);
    }

    /// Whether `part` goes out as just its payload and tail: its header
    /// block was announced and fits. Then [`continue_with`](Self::continue_with)
    /// takes it, and the caller hands out `last()`'s payload and tail.
    pub(crate) fn continues(&self, part: &EncodedPart) -> bool {
        self.announced && part.fits_announced
    }

    /// Takes `part` when it [`continues`](Self::continues) the wire: what
    /// [`frame`](Self::frame) does, without copying its chunks anywhere.
    pub(crate) fn continue_with(&mut self, part: Arc<EncodedPart>) {
        debug_assert!(self.continues(&part));
        self.take(part);
    }

    /// `part` is now the last sent; the wire stands where its tail leaves it.
    fn take(&mut self, part: Arc<EncodedPart>) {
        self.announced = part.announces_next;
        self.last = Some(part);
    }

    /// The chunks that end the stream.
    pub(crate) fn close(&mut self, encoder: &PartEncoder, out: &mut impl Extend<Bytes>) {
        match (&self.last, self.announced) {
            (Some(last), true) => out.extend([last.payload.clone()]),
            (Some(last), false) => out.extend([last.head.clone(), last.payload.clone()]),
            // No frame was ever sent: nothing to show, and nothing to keep.
            (None, _) => {}
        }
        self.announced = false;
        out.extend([encoder.close()]);
    }

    /// The last part sent: what a heartbeat or the final repeat sends again.
    pub(crate) fn last(&self) -> Option<&Arc<EncodedPart>> {
        self.last.as_ref()
    }

    fn last_payload(&self) -> Bytes {
        self.last
            .as_ref()
            .map(|last| last.payload.clone())
            .unwrap_or_default()
    }
}
