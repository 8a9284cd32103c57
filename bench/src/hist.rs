//! A small log-linear latency histogram in microseconds (about 3% resolution).

const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = (SUB as usize) * 60;

#[derive(Clone, Debug)]
pub(crate) struct Hist {
    counts: Vec<u64>,
    count: u64,
    max: u64,
    sum: u128,
}

impl Default for Hist {
    fn default() -> Self {
        Self::new()
    }
}

fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = exp - SUB_BITS;
    let sub = (v >> shift) & (SUB - 1);
    (SUB + u64::from(shift) * SUB + sub) as usize
}

/// The lowest value of bucket `i`.
fn low(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let shift = (i - SUB) / SUB;
    let sub = (i - SUB) % SUB;
    (SUB + sub) << shift
}

impl Hist {
    pub(crate) fn new() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            count: 0,
            max: 0,
            sum: 0,
        }
    }

    pub(crate) fn record(&mut self, micros: u64) {
        self.counts[index(micros).min(BUCKETS - 1)] += 1;
        self.count += 1;
        self.max = self.max.max(micros);
        self.sum += u128::from(micros);
    }

    pub(crate) fn merge(&mut self, other: &Hist) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    pub(crate) fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// The value at quantile `q` (0..=1): the middle of its bucket, capped at the max.
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = (low(i), low(i + 1));
                return (lo + (hi - lo) / 2).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in (0..2_000_000u64).step_by(7) {
            let i = index(v);
            assert!(i >= last);
            last = i;
            assert!(low(i) <= v && v < low(i + 1), "v {v} i {i}");
            assert!((low(i + 1) - low(i)) as f64 <= (v as f64 / 16.0).max(1.0));
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Hist::new();
        for v in 1..=1000 {
            h.record(v);
        }
        assert_eq!(h.count(), 1000);
        assert_eq!(h.max(), 1000);
        let p50 = h.quantile(0.5) as f64;
        let p99 = h.quantile(0.99) as f64;
        assert!((p50 - 500.0).abs() < 20.0, "{p50}");
        assert!((p99 - 990.0).abs() < 35.0, "{p99}");
        assert_eq!(h.quantile(1.0), 1000);
    }
}
