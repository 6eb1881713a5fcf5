use crate::samples;
use image::{GenericImageView, ImageFormat};
use kefu_blob::{ThumbnailError, thumbnail};
use std::time::{Duration, Instant};

#[test]
fn a_wide_screenshot_fits_the_box_with_its_aspect_ratio() {
    let thumb = thumbnail(&samples::png(2000, 1000), 320).unwrap().unwrap();

    assert_eq!((thumb.width, thumb.height), (320, 160));
    assert_eq!(thumb.mime, "image/jpeg");
    let decoded = image::load_from_memory_with_format(&thumb.bytes, ImageFormat::Jpeg).unwrap();
    assert_eq!(decoded.dimensions(), (320, 160));
}

#[test]
fn a_tall_image_is_bounded_by_its_height() {
    let thumb = thumbnail(&samples::encoded(300, 1200, ImageFormat::Jpeg), 320).unwrap().unwrap();
    assert_eq!((thumb.width, thumb.height), (80, 320));
}

#[test]
fn every_safe_format_gets_a_thumbnail() {
    for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif, ImageFormat::WebP] {
        let thumb = thumbnail(&samples::encoded(640, 480, format), 320).unwrap().unwrap();
        assert_eq!((thumb.width, thumb.height), (320, 240), "{format:?}");
        let decoded = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!(decoded.dimensions(), (320, 240), "{format:?}");
    }
}

#[test]
fn transparency_is_kept_as_png() {
    let thumb = thumbnail(&samples::transparent_png(800, 400), 320).unwrap().unwrap();
    assert_eq!(thumb.mime, "image/png");
    let decoded = image::load_from_memory_with_format(&thumb.bytes, ImageFormat::Png).unwrap();
    assert_eq!(decoded.get_pixel(0, 0).0[3], 0);
}

#[test]
fn small_images_are_not_enlarged() {
    let thumb = thumbnail(&samples::png(100, 50), 320).unwrap().unwrap();
    assert_eq!((thumb.width, thumb.height), (100, 50));
}

#[test]
fn only_safe_images_are_thumbnailed() {
    for bytes in [samples::SVG, samples::HTML, samples::PDF, &samples::zip(), &b"hello"[..]] {
        assert!(thumbnail(bytes, 320).unwrap().is_none());
    }
}

#[test]
fn a_header_claiming_ten_billion_pixels_is_refused_without_decoding() {
    let started = Instant::now();
    // Decoding would need 40 GB: getting an error back at all shows nothing of that size was allocated.
    assert!(matches!(thumbnail(&samples::png_bomb(), 320), Err(ThumbnailError::TooLarge)));
    assert!(matches!(thumbnail(&samples::gif_bomb(), 320), Err(ThumbnailError::TooLarge)));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_broken_image_is_an_error_not_a_panic() {
    let mut png = samples::png(64, 64);
    png.truncate(png.len() / 2);
    assert!(matches!(thumbnail(&png, 32), Err(ThumbnailError::Undecodable(_))));
    assert!(matches!(thumbnail(b"\xff\xd8\xff\xe0garbage", 32), Err(ThumbnailError::Undecodable(_))));
}

#[test]
fn text_disguised_as_a_gif_is_not_decoded() {
    assert!(thumbnail(b"GIF89a<script>alert(1)</script>", 320).unwrap().is_none());
}
