//! Attachment bytes: the content-addressed filesystem blob store (sealed at rest under the master key), and the content inspection
//! (type from magic bytes, safe file names, `Content-Disposition`, thumbnails) that decides how they are served.

mod disposition;
mod fs;
mod inspect;
mod seal;
mod thumbnail;

pub use disposition::{content_disposition, safe_filename};
pub use fs::{FsBlobStore, key_of};
pub use inspect::{Inspected, Kind, inspect};
pub use seal::{Keyring, OVERHEAD, SealError, write_key_file};
pub use thumbnail::{MAX_PIXELS, Thumbnail, ThumbnailError, thumbnail};
