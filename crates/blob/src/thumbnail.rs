//! Thumbnails of the inline-safe images, decoded under hard limits so a crafted header cannot make
//! the server allocate gigabytes. Decoding is CPU-bound: callers run [`thumbnail`] in `spawn_blocking`.

use crate::inspect::safe_image_format;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// The largest image decoded: a 40-megapixel photo, far above any phone screenshot.
pub const MAX_PIXELS: u64 = 40_000_000;

/// Room for a 40-megapixel RGBA image (160 MB) plus the decoders' working buffers.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

const JPEG_QUALITY: u8 = 80;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    /// `image/png` when the source has transparency, else `image/jpeg`.
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Each is the upload's fault, not the server's: the attachment is kept, just without a thumbnail.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error("image is over {MAX_PIXELS} pixels or needs more memory than allowed to decode")]
    TooLarge,
    #[error("image could not be decoded: {0}")]
    Undecodable(ImageError),
    #[error("thumbnail could not be encoded: {0}")]
    Encode(ImageError),
}

/// A thumbnail whose longer edge is at most `max_edge`, keeping the aspect ratio and never
/// enlarging; `Ok(None)` for anything that is not a PNG, JPEG, GIF or WebP (of an animation, the
/// first frame). The image is always re-encoded, which also drops its metadata (EXIF location…)
/// after applying its orientation.
pub fn thumbnail(bytes: &[u8], max_edge: u32) -> Result<Option<Thumbnail>, ThumbnailError> {
    let Some(format) = safe_image_format(bytes) else {
        return Ok(None);
    };
    let image = decode_within_limits(bytes, format)?;
    let max_edge = max_edge.max(1);
    let image = if image.width() > max_edge || image.height() > max_edge { image.thumbnail(max_edge, max_edge) } else { image };
    encode(&image).map(Some)
}

fn decode_within_limits(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, ThumbnailError> {
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    // Only the header has been read here; the pixel buffer is allocated by `from_decoder`, after
    // these checks, which `into_decoder` alone does not make.
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS || decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(ThumbnailError::TooLarge);
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn decode_error(e: ImageError) -> ThumbnailError {
    match e {
        ImageError::Limits(_) => ThumbnailError::TooLarge,
        e => ThumbnailError::Undecodable(e),
    }
}

fn encode(image: &DynamicImage) -> Result<Thumbnail, ThumbnailError> {
    let mut bytes = Vec::new();
    let mime = if image.color().has_alpha() {
        image.to_rgba8().write_with_encoder(PngEncoder::new(&mut bytes)).map_err(ThumbnailError::Encode)?;
        "image/png"
    } else {
        image.to_rgb8().write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)).map_err(ThumbnailError::Encode)?;
        "image/jpeg"
    };
    Ok(Thumbnail { bytes, mime, width: image.width(), height: image.height() })
}
