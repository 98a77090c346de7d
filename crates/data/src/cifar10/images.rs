//! Image sources of CIFAR-10: decode one 32×32 RGB JPEG or PNG into CHW bytes, and gather
//! images by split and class into two [`ImageSet`]s.
//!
//! Classes are the ten CIFAR-10 folder names; label = position in alphabetical order, which is
//! CIFAR-10's label order. Within a class, files are ordered by the number in their name
//! (`0000.jpg`, `0001.jpg`, …), then by name. JPEG and PNG are told apart by content.
//!
//! # Limitations
//!
//! - Greyscale, RGBA or 16-bit images are rejected rather than converted.

use std::collections::BTreeMap;
use std::path::Path;

use super::source::Decoded;
use super::{CLASS_NAMES, IMAGE_BYTES, SourceKind};
use crate::{DataError, ImageSet, Split};

/// Decodes a 32×32 RGB JPEG or PNG into CHW bytes `[3, 32, 32]`.
pub(super) fn decode_image(bytes: &[u8], shown: &Path) -> Result<Vec<u8>, DataError> {
    let bad = |detail: String| DataError::BadImage {
        path: shown.to_path_buf(),
        detail,
    };
    let image =
        image::load_from_memory(bytes).map_err(|e| bad(format!("undecodable data ({e})")))?;
    let (width, height) = (image.width(), image.height());
    let rgb = match image {
        image::DynamicImage::ImageRgb8(rgb) if (width, height) == (32, 32) => rgb,
        other => {
            return Err(bad(format!("a {width}x{height} {:?} image", other.color())));
        }
    };
    let interleaved = rgb.as_raw(); // [32, 32, 3]
    let mut planar = vec![0u8; IMAGE_BYTES]; // [3, 32, 32]
    for (pixel, rgb) in interleaved.chunks_exact(3).enumerate() {
        for (channel, &value) in rgb.iter().enumerate() {
            planar[channel * 1024 + pixel] = value;
        }
    }
    Ok(planar)
}

/// Where a file sorts within its class: the number in its name, then the name.
type FileOrder = (u64, String);

/// One image's place in its class and its CHW bytes `[3072]`.
type OrderedImage = (FileOrder, Vec<u8>);

/// Images gathered per split and class, sorted and checked by [`ImageCollector::finish`].
#[derive(Default)]
pub(super) struct ImageCollector {
    /// (split: 0 train, 1 test; class) → its images.
    images: BTreeMap<(u8, String), Vec<OrderedImage>>,
}

impl ImageCollector {
    pub(super) fn add(&mut self, split: Split, class: String, file: &str, pixels: Vec<u8>) {
        let stem = file.split('.').next().unwrap_or(file);
        let number = stem.parse::<u64>().unwrap_or(u64::MAX);
        let split_key = u8::from(split == Split::Test);
        let key = (number, file.to_string());
        self.images
            .entry((split_key, class))
            .or_default()
            .push((key, pixels));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    pub(super) fn finish(mut self, source: &Path, kind: SourceKind) -> Result<Decoded, DataError> {
        let mut sets = Vec::new();
        for (split_key, split) in [(0u8, Split::Train), (1, Split::Test)] {
            let found: Vec<&str> = self
                .images
                .keys()
                .filter(|(key, _)| *key == split_key)
                .map(|(_, class)| class.as_str())
                .collect();
            if found != CLASS_NAMES {
                return Err(DataError::IncompleteSource {
                    path: source.to_path_buf(),
                    detail: format!(
                        "{split}/ has images for classes [{}]; CIFAR-10 needs one folder with \
                         images for each of: {}",
                        found.join(", "),
                        CLASS_NAMES.join(", ")
                    ),
                });
            }
            let mut images = Vec::new();
            let mut labels = Vec::new();
            for (label, class) in CLASS_NAMES.iter().enumerate() {
                let mut files = self
                    .images
                    .remove(&(split_key, class.to_string()))
                    .unwrap_or_default();
                files.sort_by(|a, b| a.0.cmp(&b.0));
                for (_, pixels) in files {
                    images.extend_from_slice(&pixels);
                    labels.push(label as u8);
                }
            }
            sets.push(ImageSet {
                images,
                labels,
                channels: 3,
                height: 32,
                width: 32,
            });
        }
        let test = sets.pop().unwrap_or_else(|| unreachable!());
        let train = sets.pop().unwrap_or_else(|| unreachable!());
        Ok(Decoded {
            train,
            test,
            class_names: CLASS_NAMES.iter().map(|name| name.to_string()).collect(),
            kind,
        })
    }
}

/// `(split, class, file)` for an archive path ending in `train|test/<class>/<file>.jpg|png`.
pub(super) fn image_key(path: &Path) -> Option<(Split, String, String)> {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let [.., split, class, file] = parts.as_slice() else {
        return None;
    };
    if !has_image_extension(file) {
        return None;
    }
    let split = split.parse::<Split>().ok()?;
    Some((split, class.clone(), file.clone()))
}

pub(super) fn has_image_extension(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !lower.starts_with('.')
        && [".jpg", ".jpeg", ".png"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}
