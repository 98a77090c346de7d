//! Training-split statistics and Cohen et al.'s preprocessing: scale pixels to [0, 1], subtract
//! the mean and divide by the standard deviation, both taken over the whole training split
//! (per feature, i.e. per pixel and channel, or per channel).
//!
//! Notation: d = C·H·W features; μ_j, σ_j the mean and population standard deviation
//! (divide by the count, as NumPy's `std` does) of feature j over the training split.
//!
//! # Limitations
//!
//! - A feature that is constant over the training split (σ_j = 0) is only centred, not
//!   divided, so it stays 0 instead of becoming NaN.

use crate::ImageSet;

/// Mean and standard deviation of the training split on the [0, 1] scale.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainStatistics {
    /// `[d]`, CHW order.
    pub feature_mean: Vec<f64>,
    /// `[d]`, population standard deviation.
    pub feature_std: Vec<f64>,
    /// `[C]`.
    pub channel_mean: Vec<f64>,
    /// `[C]`, population standard deviation over all pixels of the channel.
    pub channel_std: Vec<f64>,
}

impl TrainStatistics {
    /// Computes the statistics of `set` exactly: integer sums of bytes and squared bytes,
    /// then one division each. An empty set gives zero means and unit deviations.
    pub fn of(set: &ImageSet) -> Self {
        let d = set.image_len();
        let count = set.len();
        let mut sums = vec![0u64; d];
        let mut square_sums = vec![0u64; d];
        for image in set.images.chunks_exact(d.max(1)) {
            for ((sum, square_sum), &byte) in sums.iter_mut().zip(&mut square_sums).zip(image) {
                let value = u64::from(byte);
                *sum += value;
                *square_sum += value * value;
            }
        }
        let (feature_mean, feature_std) = moments(&sums, &square_sums, count as u64);

        let plane = set.height * set.width;
        let channel_sums = per_channel(&sums, plane);
        let channel_square_sums = per_channel(&square_sums, plane);
        let (channel_mean, channel_std) =
            moments(&channel_sums, &channel_square_sums, (count * plane) as u64);

        TrainStatistics {
            feature_mean,
            feature_std,
            channel_mean,
            channel_std,
        }
    }
}

/// Sums of a `[C, H·W]` vector over each channel: `[C]`.
fn per_channel(feature_sums: &[u64], plane: usize) -> Vec<u64> {
    feature_sums
        .chunks(plane.max(1))
        .map(|channel| channel.iter().sum())
        .collect()
}

/// Mean and population standard deviation on the [0, 1] scale from byte sums.
fn moments(sums: &[u64], square_sums: &[u64], count: u64) -> (Vec<f64>, Vec<f64>) {
    if count == 0 {
        return (vec![0.0; sums.len()], vec![1.0; sums.len()]);
    }
    let count = count as f64;
    sums.iter()
        .zip(square_sums)
        .map(|(&sum, &square_sum)| {
            let mean = sum as f64 / count;
            let variance = (square_sum as f64 / count - mean * mean).max(0.0);
            (mean / 255.0, variance.sqrt() / 255.0)
        })
        .unzip()
}

/// How a subset's pixels are preprocessed after scaling to [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standardize {
    /// Subtract μ_j and divide by σ_j for every feature j (Cohen et al.).
    PerFeature,
    /// Subtract and divide by the channel's mean and deviation.
    PerChannel,
    /// Only scale to [0, 1].
    None,
}

impl Standardize {
    /// `per-feature`, `per-channel` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Standardize::PerFeature => "per-feature",
            Standardize::PerChannel => "per-channel",
            Standardize::None => "none",
        }
    }
}

impl std::fmt::Display for Standardize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Standardize {
    type Err = crate::DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "per-feature" | "feature" => Ok(Standardize::PerFeature),
            "per-channel" | "channel" => Ok(Standardize::PerChannel),
            "none" => Ok(Standardize::None),
            _ => Err(crate::DataError::UnknownChoice {
                what: "standardization",
                value: s.to_string(),
                choices: "per-feature, per-channel, none",
            }),
        }
    }
}

/// Writes one preprocessed image into `out` (`[d]`, CHW), from its bytes `[d]`.
pub(crate) fn preprocess_into(
    image: &[u8],
    kind: Standardize,
    statistics: &TrainStatistics,
    plane: usize,
    out: &mut [f64],
) {
    for (j, (value, &byte)) in out.iter_mut().zip(image).enumerate() {
        let scaled = f64::from(byte) / 255.0;
        *value = match kind {
            Standardize::None => scaled,
            Standardize::PerFeature => divide_unless_zero(
                scaled - statistics.feature_mean[j],
                statistics.feature_std[j],
            ),
            Standardize::PerChannel => {
                let channel = j / plane.max(1);
                divide_unless_zero(
                    scaled - statistics.channel_mean[channel],
                    statistics.channel_std[channel],
                )
            }
        };
    }
}

fn divide_unless_zero(centred: f64, deviation: f64) -> f64 {
    if deviation > 0.0 {
        centred / deviation
    } else {
        centred
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two 1×1×2 images: features (0, 255) and (255, 255).
    fn tiny_set() -> ImageSet {
        ImageSet {
            images: vec![0, 255, 255, 255],
            labels: vec![0, 1],
            channels: 1,
            height: 1,
            width: 2,
        }
    }

    #[test]
    fn feature_statistics_match_hand_computation() {
        let stats = TrainStatistics::of(&tiny_set());
        // Feature 0 takes 0 and 1: mean 0.5, population std 0.5. Feature 1 is constant 1.
        assert_eq!(stats.feature_mean, vec![0.5, 1.0]);
        assert_eq!(stats.feature_std, vec![0.5, 0.0]);
        // The channel holds 0, 1, 1, 1: mean 0.75, variance 0.75 - 0.5625 = 0.1875.
        assert!((stats.channel_mean[0] - 0.75).abs() < 1e-15);
        assert!((stats.channel_std[0] - 0.1875f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn constant_feature_is_centred_not_divided() {
        let set = tiny_set();
        let stats = TrainStatistics::of(&set);
        let mut out = [0.0; 2];
        preprocess_into(set.image(0), Standardize::PerFeature, &stats, 2, &mut out);
        assert_eq!(out, [-1.0, 0.0]);
    }

    #[test]
    fn standardize_names_parse() {
        assert_eq!(
            "per-channel".parse::<Standardize>().unwrap(),
            Standardize::PerChannel
        );
        assert_eq!("none".parse::<Standardize>().unwrap(), Standardize::None);
        assert!("zscore".parse::<Standardize>().is_err());
    }
}
