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
//! - the stream ends: the announced part gets the last frame again, then the
//!   close delimiter, so the last frame stays on screen.

use bytes::Bytes;

use crate::wire::encoder::{EncodedPart, PartEncoder};

/// One viewer's position on the wire.
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    /// A part's header block went out ahead: the next bytes must be a payload.
    announced: bool,
    /// The payload of the last frame sent, to fill an announced part.
    last_payload: Bytes,
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
        part: &EncodedPart,
        out: &mut impl Extend<Bytes>,
    ) {
        match (self.announced, part.fits_announced) {
            (true, true) => out.extend([part.payload.clone(), part.tail.clone()]),
            (true, false) => out.extend([
                self.last_payload.clone(),
                encoder.next_part(),
                part.head.clone(),
                part.payload.clone(),
                part.tail.clone(),
            ]),
            (false, _) => out.extend([part.head.clone(), part.payload.clone(), part.tail.clone()]),
        }
        self.announced = part.announces_next;
        self.last_payload = part.payload.clone();
    }

    /// The chunks that end the stream.
    pub(crate) fn close(&mut self, encoder: &PartEncoder, out: &mut impl Extend<Bytes>) {
        if self.announced {
            out.extend([self.last_payload.clone()]);
            self.announced = false;
        }
        out.extend([encoder.close()]);
    }
}
