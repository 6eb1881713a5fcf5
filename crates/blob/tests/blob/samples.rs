//! Tiny files of each type an upload can be: images encoded here, the rest written out by hand.

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use std::io::Cursor;

/// A horizontal gradient, so a thumbnail has something to average.
pub fn rgb_image(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]))
}

pub fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    match format {
        // GIF and WebP encoders here take RGBA only.
        ImageFormat::Gif | ImageFormat::WebP => {
            RgbaImage::from_fn(width, height, |x, _| Rgba([(x % 256) as u8, 0, 0, 255])).write_to(&mut bytes, format).unwrap()
        }
        _ => rgb_image(width, height).write_to(&mut bytes, format).unwrap(),
    }
    bytes.into_inner()
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    encoded(width, height, ImageFormat::Png)
}

pub fn transparent_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    RgbaImage::from_pixel(width, height, Rgba([0, 0, 0, 0])).write_to(&mut bytes, ImageFormat::Png).unwrap();
    bytes.into_inner()
}

pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

/// A ZIP archive holding `a.txt` = `hi`, stored uncompressed: local header, central directory, end record.
pub fn zip() -> Vec<u8> {
    let local_header: &[u8] = &[
        0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x58, 0xac, 0x2a, 0x93, 0xd8, 0x02, 0x00, 0x00, 0x00,
        0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
    ];
    let central_directory: &[u8] = &[
        0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x58, 0xac, 0x2a, 0x93, 0xd8, 0x02, 0x00,
        0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00,
        0x00, 0x00,
    ];
    let end_record: &[u8] = &[
        0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x33, 0x00, 0x00, 0x00, 0x25, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    [local_header, b"a.txt", b"hi", central_directory, b"a.txt", end_record].concat()
}

pub const SVG: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script><rect width="10" height="10"/></svg>
"#;

pub const HTML: &[u8] =
    b"<!DOCTYPE html>\n<html><head><title>\xe7\x99\xbb\xe5\xbd\x95</title></head><body><script>fetch('/api/me')</script></body></html>\n";

/// A PNG whose header claims 100000x100000 RGBA pixels (40 GB decoded) over a few bytes of data.
pub fn png_bomb() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, adaptive filter, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    push_chunk(&mut png, b"IHDR", &ihdr);
    push_chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    push_chunk(&mut png, b"IEND", &[]);
    png
}

/// A GIF whose screen and only frame claim 65535x65535 pixels.
pub fn gif_bomb() -> Vec<u8> {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00]); // screen, no global palette
    gif.extend_from_slice(&[0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00]); // image descriptor
    gif.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00, 0x3b]); // a little LZW data, trailer
    gif
}

fn push_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32([kind.as_slice(), data].concat().as_slice());
    png.extend_from_slice(&crc.to_be_bytes());
}

/// The CRC-32 PNG chunks carry (reflected polynomial 0xEDB88320).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
