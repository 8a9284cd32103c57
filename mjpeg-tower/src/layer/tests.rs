//! The layer with a hub and the real service, in process: encodings shared
//! across layers configured alike and apart.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::convert::Infallible;

use http::{HeaderName, HeaderValue, Request};
use http_body_util::BodyExt;
use tower::{Layer, ServiceExt, service_fn};

use crate::decode::{Decoder, Part};
use crate::fanout::hub::FrameHub;
use crate::layer::body::MjpegBody;
use crate::layer::builder::MjpegLayer;
use crate::respond::body::ResponderBody;
use crate::wire::frame::Frame;
use crate::wire::framing::Framing;

/// Eight layers that put frames on the wire differently, and what each
/// viewer's parts must carry.
fn eight_layers() -> Vec<(MjpegLayer, &'static str, Option<&'static str>)> {
    let camera = |layer: MjpegLayer, value: &'static str| {
        layer.part_header(
            HeaderName::from_static("x-camera"),
            HeaderValue::from_static(value),
        )
    };
    let mut layers = Vec::new();
    for (i, boundary) in ["b0", "b1", "b2", "b3"].into_iter().enumerate() {
        for framing in [Framing::AdvanceHeaders, Framing::Standard] {
            let layer = MjpegLayer::new()
                .boundary(boundary)
                .unwrap()
                .framing(framing);
            let tag = ["front", "back"][i % 2];
            // Half of them also add a part header.
            let (layer, tag) = if i >= 2 {
                (camera(layer, tag), Some(tag))
            } else {
                (layer, None)
            };
            layers.push((layer, boundary, tag));
        }
    }
    layers
}

async fn open(layer: &MjpegLayer, hub: &FrameHub) -> MjpegBody<ResponderBody> {
    let hub = hub.clone();
    let svc = layer.layer(service_fn(move |_req: Request<()>| {
        let res = hub.subscribe().into_http_response();
        async move { Ok::<_, Infallible>(res) }
    }));
    svc.oneshot(Request::new(())).await.unwrap().into_body()
}

/// Reads chunks until the decoder has one more part.
async fn next_part(body: &mut MjpegBody<ResponderBody>, decoder: &mut Decoder) -> Part {
    loop {
        if let Some(part) = decoder.next_part().unwrap() {
            return part;
        }
        let frame = body.frame().await.unwrap().unwrap();
        decoder.push(frame.data_ref().unwrap());
    }
}

#[tokio::test]
async fn eight_configurations_on_one_hub_get_their_own_bytes_and_encode_each_frame_once() {
    let hub = FrameHub::new();
    let layers = eight_layers();
    let mut viewers = Vec::new();
    for (layer, boundary, tag) in &layers {
        for _ in 0..3 {
            let decoder = Decoder::new(boundary).unwrap().strict(true);
            viewers.push((open(layer, &hub).await, decoder, *tag));
        }
    }
    for n in 0..5u8 {
        let payload = vec![n; 1000 + usize::from(n)];
        assert!(hub.publish(Frame::new(payload.clone())));
        for (body, decoder, tag) in &mut viewers {
            let part = next_part(body, decoder).await;
            assert_eq!(part.body, payload);
            assert_eq!(part.content_type(), Some("image/jpeg"));
            assert_eq!(
                part.headers.get("x-camera").map(|v| v.to_str().unwrap()),
                *tag
            );
        }
        let frame = hub.latest_shared().unwrap();
        assert_eq!(
            frame.encodings(),
            8,
            "frame {n}: one encoding per configuration"
        );
    }
}

#[tokio::test]
async fn clones_and_layers_configured_alike_share_one_encoding() {
    let hub = FrameHub::new();
    let a = MjpegLayer::new().boundary("same").unwrap();
    let b = MjpegLayer::new().boundary("same").unwrap();
    let mut bodies = vec![
        open(&a, &hub).await,
        open(&a.clone(), &hub).await,
        open(&b, &hub).await,
    ];
    hub.publish(Frame::new(vec![9u8; 100]));
    for body in &mut bodies {
        next_part(body, &mut Decoder::new("same").unwrap()).await;
    }
    assert_eq!(hub.latest_shared().unwrap().encodings(), 1);
}
