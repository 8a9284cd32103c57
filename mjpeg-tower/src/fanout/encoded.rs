//! [`SharedFrame`]: a published frame and its encodings, shared by every viewer.

use std::sync::{Arc, OnceLock};

use crate::wire::encoder::{EncodedPart, Fingerprint, PartEncoder};
use crate::wire::frame::Frame;

/// Encodings kept in one block; a frame viewed through more distinct
/// configurations chains further blocks.
const SLOTS: usize = 4;

/// A frame shared by every viewer that receives it, with its encoding cached
/// per encoder [`Fingerprint`]: however many layers view one hub, each
/// distinct configuration encodes the frame once, and every viewer of it
/// shares that encoding.
#[derive(Debug)]
pub(crate) struct SharedFrame {
    frame: Frame,
    encodings: Encodings,
    /// When it was published, for the latency histogram.
    #[cfg(feature = "metrics")]
    published_at: tokio::time::Instant,
}

/// Slots filled in order, first come first served; the chain grows only when
/// every slot holds another configuration's encoding.
#[derive(Debug, Default)]
struct Encodings {
    slots: [OnceLock<(Fingerprint, Arc<EncodedPart>)>; SLOTS],
    more: OnceLock<Box<Encodings>>,
}

impl SharedFrame {
    pub(crate) fn new(frame: Frame) -> Self {
        Self {
            frame,
            encodings: Encodings::default(),
            #[cfg(feature = "metrics")]
            published_at: tokio::time::Instant::now(),
        }
    }

    /// How long ago it was published.
    #[cfg(feature = "metrics")]
    pub(crate) fn age(&self) -> std::time::Duration {
        self.published_at.elapsed()
    }

    pub(crate) fn frame(&self) -> &Frame {
        &self.frame
    }

    /// The frame as `encoder` puts it on the wire, encoded on first use.
    ///
    /// Slots are taken in order and a slot being filled makes others wait for
    /// it, so the first slot holding a fingerprint is the only one: each
    /// configuration encodes the frame exactly once. Reads after that are
    /// lock-free.
    pub(crate) fn encoded(&self, encoder: &PartEncoder) -> Arc<EncodedPart> {
        let wanted = encoder.fingerprint();
        let mut block = &self.encodings;
        loop {
            for slot in &block.slots {
                let (fingerprint, part) =
                    slot.get_or_init(|| (wanted.clone(), Arc::new(encoder.encode(&self.frame))));
                if fingerprint == wanted {
                    return part.clone();
                }
            }
            block = block.more.get_or_init(Box::default);
        }
    }

    /// How many encodings this frame holds: one per distinct configuration
    /// that asked for it.
    #[cfg(test)]
    pub(crate) fn encodings(&self) -> usize {
        let mut count = 0;
        let mut block = Some(&self.encodings);
        while let Some(b) = block {
            count += b.slots.iter().filter(|s| s.get().is_some()).count();
            block = b.more.get().map(|more| &**more);
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::boundary::Boundary;
    use crate::wire::encoder::default_part_headers;
    use crate::wire::framing::Framing;

    fn encoder(boundary: &str) -> PartEncoder {
        PartEncoder::new(
            Boundary::new(boundary).unwrap(),
            Framing::Standard,
            default_part_headers(),
        )
    }

    #[test]
    fn one_encoding_per_configuration_however_many() {
        let frame = SharedFrame::new(Frame::new(&b"payload"[..]));
        // Ten configurations: more than one block of slots.
        let encoders: Vec<_> = (0..10).map(|i| encoder(&format!("b{i}"))).collect();
        let first: Vec<_> = encoders.iter().map(|e| frame.encoded(e)).collect();
        // Encoders built separately but configured alike share the encoding.
        let again: Vec<_> = (0..10)
            .map(|i| frame.encoded(&encoder(&format!("b{i}"))))
            .collect();
        assert_eq!(frame.encodings(), 10);
        for (i, (a, b)) in first.iter().zip(&again).enumerate() {
            assert_eq!(a.head.as_ptr(), b.head.as_ptr(), "b{i} encoded once");
            assert!(
                std::str::from_utf8(&a.tail)
                    .unwrap()
                    .contains(&format!("--b{i}\r\n")),
                "b{i} got its own bytes"
            );
        }
    }

    #[test]
    fn concurrent_viewers_of_one_configuration_encode_once() {
        let frame = std::sync::Arc::new(SharedFrame::new(Frame::new(vec![1u8; 10_000])));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let frame = std::sync::Arc::clone(&frame);
                std::thread::spawn(move || {
                    frame.encoded(&encoder(if i % 2 == 0 { "even" } else { "odd" }));
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(frame.encodings(), 2);
    }
}
