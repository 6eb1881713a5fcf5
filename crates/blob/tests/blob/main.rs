//! The attachment layer as the inbox uses it: store and fetch bytes, tell what they are, name
//! and serve them safely, and thumbnail the images.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod names;
mod samples;
mod sniffing;
mod store;
mod thumbnails;
